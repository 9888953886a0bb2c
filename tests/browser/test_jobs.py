"""Jobs: recent jobs with their state; open one to see its result."""

import httpx
from playwright.sync_api import expect


def test_jobs_page_lists_a_job_and_opens_its_result(signed_in, stack, keys, speech, shot):
    page = signed_in
    wav = speech("Testing the jobs page.", "jobs.wav")
    with open(wav, "rb") as f:
        r = httpx.post(f"{stack.web.url}/api/v1/transcriptions", headers={"Authorization": f"Bearer {keys['full']}",
                       "Prefer": "respond-async"}, files={"file": ("jobs.wav", f, "audio/wav")}, timeout=60)
    assert r.status_code == 202, r.text
    job_id = r.json()["job"]["id"]

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")
    row = page.get_by_test_id("job-row").filter(has_text="jobs.wav").first
    expect(row).to_be_visible()
    # The list refreshes by itself while a job runs.
    expect(row.locator(".badge")).to_have_text("succeeded", timeout=120_000)
    shot(page, "jobs")

    row.get_by_role("link").click()
    expect(page).to_have_url(f"{stack.web.url}/#/jobs/{job_id}")
    expect(page.get_by_test_id("job-state")).to_have_text("succeeded")
    transcript = page.get_by_role("region", name="Transcript")
    expect(transcript).to_contain_text("testing", ignore_case=True)
    shot(page, "job-detail")

    # The subtitles are the job's result rendered by the gateway, byte for byte (no second run).
    with page.expect_download() as dl:
        transcript.get_by_role("button", name="Download .vtt").click()
    assert dl.value.suggested_filename == "jobs.vtt"
    downloaded = open(dl.value.path(), "rb").read()
    with httpx.Client(base_url=stack.gateway.url, headers={"Authorization": f"Bearer {keys['full']}"}) as gw:
        from_gateway = gw.get(f"/api/v1/jobs/{job_id}/result", params={"format": "vtt"})
        runs = gw.get("/api/v1/jobs", params={"limit": 5}).json()["jobs"]
    assert from_gateway.status_code == 200 and downloaded == from_gateway.content
    assert downloaded.startswith(b"WEBVTT\n\n00:00:00.") and b"testing" in downloaded.lower()
    assert [j["id"] for j in runs].count(job_id) == 1 and runs[0]["id"] == job_id  # no new job


def test_an_unknown_job_shows_a_clear_error(signed_in):
    page = signed_in
    page.goto("/#/jobs/does-not-exist")
    expect(page.get_by_role("alert")).to_contain_text("HTTP 404")
