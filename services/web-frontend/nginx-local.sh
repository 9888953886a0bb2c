#!/usr/bin/env bash
# Serve the built UI with nginx and the container's own nginx.conf (the image's envsubst step
# done here), as an unprivileged foreground process: `make run` (serve.sh) and the browser tests
# use this, so what runs locally is what runs in the container.
# Env: WEB_PORT (8080), WEB_HOST (127.0.0.1), WEB_GATEWAY_URL (http://127.0.0.1:8090),
# WEB_DIST (./dist), WEB_NGINX_DIR (runtime files; default a new temporary folder), and the
# slow-client bounds of nginx.conf: WEB_HEADERS_TIMEOUT_S (10: the request's headers must arrive
# within it) and WEB_BODY_TIMEOUT_S (60: an upload that stalls this long between two reads is
# cut; a trickled one is bounded by the gateway's total GATEWAY_BODY_TIMEOUT_S).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nginx=$(command -v nginx || true)
for p in /usr/sbin/nginx /usr/bin/nginx; do [ -z "$nginx" ] && [ -x "$p" ] && nginx=$p; done
[ -n "$nginx" ] || { echo "web-frontend: nginx is not installed (apt-get install nginx; apt.txt)" >&2; exit 1; }

port=${WEB_PORT:-8080}
host=${WEB_HOST:-127.0.0.1}
gateway=${WEB_GATEWAY_URL:-http://127.0.0.1:8090}
dist=$(cd "${WEB_DIST:-$here/dist}" && pwd)
dir=${WEB_NGINX_DIR:-$(mktemp -d -t web-nginx.XXXXXX)}
re='^https?://[^/[:space:]]+/?$'
[[ "$gateway" =~ $re ]] || { echo "web-frontend: WEB_GATEWAY_URL must be http(s)://host[:port], got '$gateway'" >&2; exit 2; }
mkdir -p "$dir"/{body,proxy,fastcgi,uwsgi,scgi}

# the server block exactly as the image uses it, with its listen, root, gateway and timeouts filled in
python3 - "$here/nginx.conf" "$dir/server.conf" "$host:$port" "$dist" "${gateway%/}" \
  "${WEB_HEADERS_TIMEOUT_S:-10}" "${WEB_BODY_TIMEOUT_S:-60}" <<'PY'
import sys
src, out, listen, root, gateway, header_s, body_s = sys.argv[1:]
for value in (header_s, body_s):
    if not value.isdigit() or int(value) < 1:
        sys.exit(f"web-frontend: timeouts are whole seconds >= 1, got {value!r}")
text = open(src).read()
for old, new in (("listen 8080;", f"listen {listen};"), ("root /usr/share/nginx/html;", f"root {root};"),
                 ("client_header_timeout 10s;", f"client_header_timeout {header_s}s;"),
                 ("client_body_timeout 60s;", f"client_body_timeout {body_s}s;")):
    if old not in text:
        sys.exit(f"web-frontend: nginx.conf no longer contains {old!r}: update nginx-local.sh")
    text = text.replace(old, new)
open(out, "w").write(text.replace("${WEB_GATEWAY_URL}", gateway))
PY

cat > "$dir/nginx.conf" <<CONF
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log stderr error;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  include $dir/server.conf;
}
CONF
"$nginx" -t -q -p "$dir" -c "$dir/nginx.conf"
echo "web-frontend: nginx on http://$host:$port (gateway $gateway, config $dir/nginx.conf)" >&2
exec "$nginx" -p "$dir" -c "$dir/nginx.conf"
