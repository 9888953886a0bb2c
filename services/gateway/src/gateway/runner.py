"""`OperationRunner`: runs typed operations (operations.py) on the route table's upstreams.

Built once per process from the route table and the upstream pool; the routers get it as an
`Annotated` dependency (deps.Runner) and `JobManager` gets it to run queued jobs, so neither
needs the rest of the gateway's state.
"""

from __future__ import annotations

from .errors import ApiError
from .operations import Operation
from .render import Output
from .routetable import Route, RouteTable
from .upstream import Upstream, UpstreamPool


class OperationRunner:
    def __init__(self, routes: RouteTable, upstreams: UpstreamPool):
        self.routes = routes
        self.upstreams = upstreams

    # ---------------------------------------------------------------- routes

    def route_for(self, resource: str, kinds: tuple[str, ...]) -> Route:
        """The route serving `/api/v1/<resource>` if it is of one of `kinds`, else 404."""
        route = self.routes.by_resource.get(resource)
        if route is None or route.kind not in kinds:
            raise ApiError(404, f"no route serves '/api/v1/{resource}'", code="route_not_found")
        return route

    def route_for_model(self, kind: str, model: str) -> Route:
        """The route an OpenAI `model` name selects among routes of `kind`, or 404 listing the names."""
        route = self.routes.for_model(kind, model)
        if route is None:
            names = sorted({a for r in self.routes.routes if r.kind == kind for a in [r.name, *r.aliases]})
            raise ApiError(404, f"model '{model}' not found; available: {', '.join(names) or 'none'}",
                           code="model_not_found")
        return route

    def docqa_route(self) -> Route:
        """The document-qa route behind /api/v1/documents, /api/v1/questions; 404 if none."""
        route = self.routes.docqa_route()
        if route is None:
            raise ApiError(404, "no document-qa route is configured on this gateway", code="route_not_found")
        return route

    def named(self, name: str) -> Route:
        """The route an operation names: 503 (retry later) once it left the route table."""
        route = self.routes.by_name.get(name)
        if route is None:
            raise ApiError(503, f"route '{name}' is no longer in the route table", code="route_not_found",
                           retry_after=10)
        return route

    def route_of(self, op: Operation) -> Route:
        """The operation's route, still of the kind the operation needs (a queued job may outlive
        a route-table change)."""
        route = self.named(op.route)
        if op.kind and route.kind != op.kind:
            raise ApiError(503, f"route '{route.name}' is no longer a {op.kind} route", code="route_not_found",
                           retry_after=10)
        return route

    def upstream(self, route: Route) -> Upstream:
        return self.upstreams.get(route)

    # ---------------------------------------------------------------- running

    async def execute(self, op: Operation, data: bytes | None, request_id: str | None) -> Output:
        """Run the operation now: one upstream call, the result formatted as `op` asks."""
        return await op.run(self.upstream(self.route_of(op)), data, request_id)
