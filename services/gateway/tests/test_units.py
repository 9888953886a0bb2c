"""Pure functions: route-table parsing and defaults, output formats, sniffing, seed-key parsing."""

from __future__ import annotations

import pytest
from conftest import MINIMAL_PDF, make_png, make_wav

from gateway.auth import Principal, parse_seed_keys
from gateway.downloads import attachment, export_name
from gateway.operations import csv_cell, format_transcription, to_csv, to_srt, to_vtt
from gateway.routetable import RouteTable, parse_routes
from gateway.settings import Settings
from gateway.uploads import sniff
from gateway.upstream import device_summary


def test_default_routes_from_env_urls_plus_inline_extra_routes():
    s = Settings(audio_url="http://audio:8080/", vlm_url="http://vlm:8080",
                 routes='{"routes": [{"name": "document-qa", "kind": "document-qa", "upstream": "http://qa:8080"}]}')
    table = RouteTable(s)
    assert [r.name for r in table.routes] == ["audio", "vlm", "translation", "document-qa"]
    audio = table.by_name["audio"]
    assert audio.upstream == "http://audio:8080" and audio.path == "/api/v1/transcriptions"
    assert "whisper-1" in audio.aliases
    qa = table.by_resource["document-qa"]
    assert (qa.model, qa.scopes, qa.path) == ("document-qa", ["document-qa"], "/api/v1/document-qa")
    assert table.for_path("/v1/audio/transcriptions") is audio
    assert table.for_model("transcription", "whisper-1") is audio
    assert table.for_model("transcription", "tts-1") is None


@pytest.mark.parametrize("text,message", [
    ("{nope", "not valid JSON"),
    ('{"routes": [{"name": "a", "kind": "custom"}]}', "invalid route table"),
    ('{"routes": [{"name": "a", "kind": "teleport", "upstream": "http://x"}]}', "invalid route table"),
    ('{"routes": [{"name": "a", "kind": "custom", "upstream": "http://x"},'
     ' {"name": "a", "kind": "custom", "upstream": "http://y", "resource": "b"}]}', "names must be unique"),
    ('{"routes": [{"name": "a", "kind": "custom", "upstream": "http://x", "resource": "r"},'
     ' {"name": "b", "kind": "custom", "upstream": "http://y", "resource": "r"}]}', "resources must be unique"),
])
def test_bad_route_tables_are_rejected_with_a_reason(text, message):
    with pytest.raises(ValueError, match=message):
        parse_routes(text)


def test_a_bare_list_is_a_route_table_too():
    assert parse_routes('[{"name": "t", "kind": "translation", "upstream": "http://t"}]')[0].resource == "t"


def test_srt_vtt_csv_and_openai_shapes():
    result = {"text": " Hi there", "language": "de", "duration": 2.0,
              "segments": [{"id": 0, "start": 0.0, "end": 1.2344, "text": " Hi"},
                           {"id": 1, "start": 3599.9995, "end": 3600.5, "text": " there",
                            "words": [{"start": 3600.0, "end": 3600.5, "word": " there", "probability": 0.9}]}]}
    assert to_srt(result) == "1\n00:00:00,000 --> 00:00:01,234\nHi\n\n2\n01:00:00,000 --> 01:00:00,500\nthere\n"
    assert to_vtt(result) == "WEBVTT\n\n00:00:00.000 --> 00:00:01.234\nHi\n\n01:00:00.000 --> 01:00:00.500\nthere\n"
    assert format_transcription(result, "json", openai=True).content == {"text": " Hi there"}
    assert format_transcription(result, "json", openai=False).content is result
    verbose = format_transcription(result, "verbose_json", openai=True, task="translate", words=True).content
    assert verbose["task"] == "translate" and verbose["language"] == "german"
    assert verbose["words"] == [{"word": " there", "start": 3600.0, "end": 3600.5}]
    assert to_csv({"transactions": [{"date": "2024-01-01", "description": "a,b", "amount": "-1.00",
                                     "balance": None, "type": "debit", "page": 2, "balance_ok": False,
                                     "problem": "balance_mismatch", "row": 9}]}) == (
        "date,description,amount,balance,type,page,balance_ok,problem\r\n"
        '2024-01-01,"a,b",-1.00,,debit,2,false,balance_mismatch\r\n')


def test_cues_skip_empty_segments_and_never_break_inside_a_cue():
    result = {"segments": [{"start": 0, "end": 1, "text": " first\n\n line "}, {"start": 1, "end": 2, "text": "  "},
                           {"start": 2, "end": 3, "text": None}, {"start": 3, "end": 4, "text": "a --> b"}]}
    assert to_srt(result) == ("1\n00:00:00,000 --> 00:00:01,000\nfirst line\n\n"
                              "2\n00:00:03,000 --> 00:00:04,000\na --> b\n")
    assert to_vtt(result) == ("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nfirst line\n\n"
                              "00:00:03.000 --> 00:00:04.000\na -> b\n")
    assert to_srt({"segments": []}) == "" and to_vtt({"text": "x"}) == "WEBVTT\n"


@pytest.mark.parametrize("source,media,name", [
    ("talk.wav", "application/x-subrip; charset=utf-8", "talk.srt"),
    ("my statement.v2.pdf", "text/csv; charset=utf-8", "my statement.v2.csv"),
    ("C:\\Users\\me\\rec.webm", "text/vtt", "rec.vtt"),
    ("../../etc/passwd", "text/plain; charset=utf-8", "passwd.txt"),
    ('a"b<c>.ogg', "text/vtt", "a_b_c.vtt"),
    (".hidden", "text/csv", "hidden.csv"),  # never a hidden file
    (None, "text/csv", "statement.csv"),
    ("...", "text/csv", "statement.csv"),
    ("talk.wav", "application/json", None),
])
def test_export_names_come_from_the_upload(source, media, name):
    assert export_name(source, media, "statement") == name


def test_attachment_header_is_ascii_with_an_rfc8187_name_for_the_rest():
    assert attachment("talk.srt") == {"Content-Disposition": 'attachment; filename="talk.srt"'}
    value = attachment("Überweisung €.csv")["Content-Disposition"]
    assert value == ("attachment; filename=\"_berweisung _.csv\"; "
                     "filename*=UTF-8''%C3%9Cberweisung%20%E2%82%AC.csv")
    value.encode("latin-1")  # a header value HTTP can carry
    assert '"' not in attachment('x"\r\ny.txt')["Content-Disposition"].split('filename="')[1][:-1]


@pytest.mark.parametrize("data,kind", [
    (make_wav(0.01), "audio/wav"), (MINIMAL_PDF, "application/pdf"), (make_png(), "image/png"),
    (b"\xff\xd8\xff\xe0rest", "image/jpeg"), (b"II*\x00rest", "image/tiff"), (b"OggSxxxx", "audio/ogg"),
    (b"fLaC\x00", "audio/flac"), (b"ID3\x04rest", "audio/mpeg"), (b"\x00\x00\x00\x18ftypM4A ", "audio/mp4"),
    (b"\x1a\x45\xdf\xa3rest", "audio/webm"), (b"hello world", None), (b"", None),
])
def test_sniffing(data, kind):
    assert sniff(data) == kind


def test_seed_key_spec_and_scopes():
    assert parse_seed_keys("abcdefgh; ijklmnop:statements,echo ;") == [
        ("abcdefgh", ["all"]), ("ijklmnop", ["statements", "echo"])]
    with pytest.raises(ValueError):
        parse_seed_keys("short")
    p = Principal("k", "n", ("statements",))
    assert p.allows("statements") and not p.allows("transcriptions")
    assert Principal("k", "n", ("all",)).allows("anything")


def _tx(**kw):
    base = {"date": "2024-01-05", "description": "x", "amount": "-1.00", "balance": "1.00", "type": "debit",
            "page": 1, "balance_ok": True, "problem": None}
    return {**base, **kw}


def test_csv_is_rfc4180_with_crlf_and_quotes():
    # moved here from the web UI's tests when its own CSV writer was deleted: one writer now
    out = to_csv({"transactions": [
        _tx(description='Shop "A", Ltd', amount="-3.10", balance="96.90"),
        _tx(description="two\nlines", amount="1.00", balance=None, type="credit", balance_ok=False,
            problem="expected 1.00"),
    ]})
    lines = out.split("\r\n")
    assert lines[0] == "date,description,amount,balance,type,page,balance_ok,problem"
    assert lines[1] == '2024-01-05,"Shop ""A"", Ltd",-3.10,96.90,debit,1,true,'
    assert '"two\nlines",1.00,,credit,1,false,expected 1.00\r\n' in out
    assert out.endswith("\r\n")


@pytest.mark.parametrize("value,cell", [
    ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'), ("+1+2", "'+1+2"), ("-fee", "'-fee"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"),
    ("-12.50", "-12.50"), ("+3", "+3"), ("-0.01", "-0.01"), ("12.00", "12.00"), ("a=b", "a=b"), (None, ""),
    (True, "true"), (3, "3"),
])
def test_csv_cells_neutralise_formulas_but_keep_signed_numbers(value, cell):
    assert csv_cell(value) == cell


def test_csv_guards_formulas_in_every_column():
    out = to_csv({"transactions": [_tx(description='=HYPERLINK("x")', amount="-5.00", problem="@risk"),
                                   _tx(description="-fee", amount="=1+1")]})
    assert '"\'=HYPERLINK(""x"")",-5.00,' in out
    assert ",'-fee,'=1+1," in out and ",'@risk\r\n" in out


def test_device_summary_of_a_model_service_start_up_check():
    doc = {"device": "cpu", "requested": "auto", "budget_gb": 8, "verdict": "will run on CPU",
           "gpu": {"name": "NVIDIA GeForce RTX 5060 Ti", "capability": "12.0", "memory_total_mb": 16311.0},
           "warnings": ["a GPU is visible but not usable, falling back to the CPU: torch 2.5.1 ..."], "notes": []}
    assert device_summary(doc) == {
        "device": "cpu", "requested": "auto", "budget_gb": 8, "verdict": "will run on CPU",
        "gpu": "NVIDIA GeForce RTX 5060 Ti (compute capability 12.0)",
        "warnings": ["a GPU is visible but not usable, falling back to the CPU: torch 2.5.1 ..."]}
    assert device_summary({"detail": "Not Found"}) is None and device_summary([1]) is None
    assert device_summary({"device": "cuda", "budget_gb": "lots"})["budget_gb"] is None
