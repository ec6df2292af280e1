"""The office page /members/import/ and POST /api/v1/imports/ (CONTRACT.md §5-§7): who may use
them, upload, dry-run report as a table, confirm exactly the files checked, once."""
import csv
import io
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from interchange.models import ImportUpload
from members.models import Member

from .helpers import TODAY, files, member_row, share_row, template_row, to_bytes

pytestmark = pytest.mark.django_db
PASSWORD = "pass-word-123"


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    monkeypatch.setattr("interchange.views.clock_today", lambda: TODAY)
    monkeypatch.setattr("interchange.api.clock_today", lambda: TODAY)


def user(name, *groups, superuser=False):
    users = get_user_model().objects
    if superuser:
        return users.create_superuser(username=name, email=f"{name}@example.org", password=PASSWORD)
    made = users.create_user(username=name, email=f"{name}@example.org", password=PASSWORD)
    for group in groups:
        made.groups.add(Group.objects.get(name=group))
    return made


def client(as_user=None, api=False):
    made = APIClient() if api else Client()
    if as_user is not None:
        made.force_login(as_user)
    return made


def coop_zip(members=None, **more) -> bytes:
    members = members or [member_row(1, "Ada", "Lovelace", slot_template="A Lundi matin"), member_row(2, "Bob", "Marley", "ftop")]
    content = files(templates_csv=[template_row("A Lundi matin")], members_csv=members,
                    shares_csv=[share_row(int(m["member_number"])) for m in members], **more)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in to_bytes(content):
            archive.writestr(f"coop/{name}", data)
    return out.getvalue()


def upload(web, content: bytes, name="coop.zip"):
    return web.post("/members/import/", {"files": SimpleUploadedFile(name, content)})


@pytest.fixture
def coordinator():
    return user("coord", "coordinators")


@pytest.fixture
def office(coordinator):
    return client(coordinator)


# --- the page ---------------------------------------------------------------------------------

def test_upload_checks_the_files_writes_nothing_and_shows_the_report(office):
    response = upload(office, coop_zip())
    assert response.status_code == 302
    batch = ImportUpload.objects.get()
    assert response["Location"] == f"/members/import/{batch.token}/"
    assert Member.objects.count() == 0
    page = office.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "The files are valid. Importing them would give:" in text and "Import these files" in text
    assert "members: 2 created" in text and "No problem found." in text
    assert batch.report["created"]["members"] == 2 and batch.report["dry_run"] is True
    assert batch.sha256 and batch.size == len(bytes(batch.content))


def test_confirm_imports_exactly_the_files_checked_once(office):
    first = upload(office, coop_zip())
    token = ImportUpload.objects.get().token
    upload(office, coop_zip([member_row(7, "Zed", "Other", "ftop")]))  # another upload meanwhile: its own token
    response = office.post(f"/members/import/{token}/confirm/")
    assert response.status_code == 302 and response["Location"] == first["Location"]
    assert sorted(Member.objects.values_list("member_number", flat=True)) == [1, 2]
    batch = ImportUpload.objects.get(token=token)
    assert batch.imported_at is not None and bytes(batch.content) == b""
    again = office.post(f"/members/import/{token}/confirm/", follow=True)
    assert "already imported" in again.content.decode()
    assert Member.objects.count() == 2
    report = office.get(f"/members/import/{token}/").content.decode()
    assert "Import these files" not in report


def test_a_report_with_errors_lists_every_problem_with_file_line_and_column_and_cannot_be_confirmed(office):
    members = [member_row(1, "Ada", "Lovelace", email="nope"), member_row(2, "Bob", "Marley", "ftop", joined_on="2030-01-01")]
    response = upload(office, coop_zip(members))
    page = office.get(response["Location"]).content.decode()
    assert "2 errors: nothing can be imported" in page
    assert "Import these files" not in page
    for cell in ("members.csv", ">2<", ">3<", "email", "joined_on", "Enter a valid e-mail address.", "The joining date cannot be in the future."):
        assert cell in page, cell
    token = ImportUpload.objects.get().token
    office.post(f"/members/import/{token}/confirm/")
    assert Member.objects.count() == 0
    exported = office.get(f"/members/import/{token}/?_export=csv")
    assert exported.status_code == 200
    lines = b"".join(exported.streaming_content if exported.streaming else [exported.content]).decode().splitlines()
    assert lines[0] == "Level,File,Line,Column,Message"
    assert lines[1:3] == ["error,members.csv,2,email,Enter a valid e-mail address.",
                          "error,members.csv,3,joined_on,The joining date cannot be in the future."]
    assert lines[3].startswith("warning,members.csv,2,slot_template,")
    only_errors = office.get(f"/members/import/{token}/?level=warning").content.decode()
    assert "Enter a valid e-mail address." not in only_errors


def bad_seats_zip() -> bytes:
    """Files whose qualifications, qualified seats and welcome dates are wrong (DOMAIN.md §9)."""
    members = [member_row(1, "Ada", "Lovelace", slot_template="A Lundi matin", welcomed_on="2099-01-01")]
    content = files(templates_csv=[template_row("A Lundi matin", requirements="leader:1;forklift:1")], members_csv=members,
                    shares_csv=[share_row(1)], qualifications_csv=[{"member_number": "1", "qualification": "leader", "since": "2025-03-01",
                                                                   "until": "2025-01-01"}])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in to_bytes(content):
            archive.writestr(name, data)
    return out.getvalue()


BAD_SEATS = [
    ("members.csv", 2, "welcomed_on", "The welcome date cannot be in the future."),
    ("qualifications.csv", 2, "until", "The qualification ends before it starts."),
    ("templates.csv", 2, "requirements", "Unknown qualification “forklift”: the codes are leader, cashier, reception "
                                         "(add one on the qualifications page first)."),
]


def test_the_report_page_shows_the_checks_of_qualifications_seats_and_welcome_dates(office):
    page = office.get(upload(office, bad_seats_zip())["Location"]).content.decode()
    assert "3 errors: nothing can be imported" in page
    for file, _line, column, message in BAD_SEATS:
        for cell in (file, column, message.split("“")[0]):
            assert cell in page, cell
    assert "forklift" in page


def test_the_api_answers_400_with_the_checks_of_qualifications_seats_and_welcome_dates(coordinator):
    response = post(client(coordinator, api=True), bad_seats_zip(), dry_run="true")
    assert response.status_code == 400
    assert [(e["file"], e["line"], e["column"], e["message"]) for e in response.json()["errors"]] == BAD_SEATS
    assert Member.objects.count() == 0


def test_several_csv_files_at_once_and_a_workbook(office):
    content = files(templates_csv=[], members_csv=[member_row(1, "Ada", "Lovelace", "ftop")], shares_csv=[share_row(1)])
    uploads = [SimpleUploadedFile(name, data) for name, data in to_bytes(content)]
    response = office.post("/members/import/", {"files": uploads})
    assert response.status_code == 302
    token = ImportUpload.objects.get().token
    office.post(f"/members/import/{token}/confirm/")
    assert Member.objects.count() == 1
    workbook = office.get("/members/import/example.xlsx")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"


def test_the_downloadable_examples_import_as_they_are(office):
    for name in ("example.zip", "example.xlsx"):
        content = office.get(f"/members/import/{name}").content
        response = upload(office, content, name)
        batch = ImportUpload.objects.order_by("-pk").first()
        assert batch.report["errors"] == [], (name, batch.report["errors"])
        assert batch.report["created"]["members"] == 12
        assert batch.report["created"]["qualifications"] >= 1 and batch.report["created"]["templates"] >= 5  # welcome sessions too
        assert [w for w in batch.report["warnings"] if w["column"] == "slot_template" and "trained" in w["message"]] == []
        assert response.status_code == 302
    with zipfile.ZipFile(io.BytesIO(office.get("/members/import/example.zip").content)) as archive:
        templates, members = (list(csv.DictReader(io.StringIO(archive.read(name).decode()))) for name in ("templates.csv", "members.csv"))
        grants = list(csv.DictReader(io.StringIO(archive.read("qualifications.csv").decode())))
    assert any(t["requirements"] for t in templates) and any(t["welcome"] == "1" for t in templates)
    assert any(m["welcomed_on"] for m in members) and grants


def test_unreadable_uploads_are_form_errors_not_crashes(office):
    for content, name in ((b"\x00\x01 not a zip", "coop.zip"), (b"PK\x03\x04 broken", "coop.zip"), (b"hello", "notes.txt")):
        response = upload(office, content, name)
        assert response.status_code == 200
        assert "is-invalid" in response.content.decode() or "invalid-feedback" in response.content.decode()
    assert ImportUpload.objects.count() == 0


def test_a_nul_byte_in_an_upload_is_a_reported_problem(office):
    content = files(templates_csv=[], members_csv=[member_row(1, "Ada\x00", "Lovelace", "ftop")], shares_csv=[])
    response = upload(office, _zip_of(content))
    assert response.status_code == 302
    report = ImportUpload.objects.get().report
    assert {"file": "members.csv", "line": 2, "column": "first_name", "message": "A NUL byte is not allowed in a cell.", "level": "error"} in report["errors"]


def _zip_of(content) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in to_bytes(content):
            archive.writestr(name, data)
    return out.getvalue()


def test_the_database_changing_between_check_and_confirm_imports_nothing(office):
    upload(office, coop_zip())
    token = ImportUpload.objects.get().token
    upload(office, coop_zip([member_row(1, "Zed", "Other", "ftop", email="zed@example.org")]))
    office.post(f"/members/import/{ImportUpload.objects.order_by('-pk').first().token}/confirm/")
    assert Member.objects.count() == 1
    response = office.post(f"/members/import/{token}/confirm/", follow=True)
    assert "nothing was imported" in response.content.decode()
    assert Member.objects.count() == 1


def test_another_coordinator_cannot_see_or_confirm_an_upload(office):
    upload(office, coop_zip())
    token = ImportUpload.objects.get().token
    other = client(user("coord2", "coordinators"))
    assert other.get(f"/members/import/{token}/").status_code == 404
    assert other.post(f"/members/import/{token}/confirm/").status_code == 404
    assert client(user("root", superuser=True)).get(f"/members/import/{token}/").status_code == 200
    assert Member.objects.count() == 0


@pytest.mark.parametrize("role", ["anonymous", "cooperator", "cashier", "supply"])
def test_only_coordinators_use_the_import_page(role, office):
    upload(office, coop_zip())
    token = ImportUpload.objects.get().token
    who = None if role == "anonymous" else user(role, *({"cashier": ["cashiers"], "supply": ["supply"]}.get(role, [])))
    web = client(who)
    for method, path in (("get", "/members/import/"), ("post", "/members/import/"), ("get", f"/members/import/{token}/"),
                         ("post", f"/members/import/{token}/confirm/"), ("get", "/members/import/example.zip")):
        response = getattr(web, method)(path, {"files": SimpleUploadedFile("c.zip", coop_zip())} if method == "post" else None)
        if role == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], path
        else:
            assert response.status_code == 403, path
    assert Member.objects.count() == 0 and ImportUpload.objects.count() == 1


# --- the API --------------------------------------------------------------------------------------

def post(api, content, dry_run=None, name="coop.zip"):
    data = {"file": SimpleUploadedFile(name, content)}
    if dry_run is not None:
        data["dry_run"] = dry_run
    return api.post("/api/v1/imports/", data, format="multipart")


def test_api_dry_run_then_import_then_again(coordinator):
    api = client(coordinator, api=True)
    dry = post(api, coop_zip(), dry_run="true")
    assert dry.status_code == 200
    assert dry.json()["dry_run"] is True and dry.json()["imported"] is False and dry.json()["created"]["members"] == 2
    assert Member.objects.count() == 0
    done = post(api, coop_zip())
    assert done.status_code == 200 and done.json()["imported"] is True and done.json()["summary"].endswith("0 changed")
    assert Member.objects.count() == 2
    again = post(api, coop_zip())
    assert again.json()["summary"] == "0 created, 0 changed"


def test_api_400_lists_every_error_and_writes_nothing(coordinator):
    api = client(coordinator, api=True)
    members = [member_row(1, "Ada", "Lovelace", email="nope"), member_row(2, "Bob", "Marley", "ftop", counter_standard="3")]
    response = post(api, coop_zip(members))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["imported"] is False
    assert [(e["file"], e["line"], e["column"]) for e in body["errors"]] == [("members.csv", 2, "email"), ("members.csv", 3, "counter_standard")]
    assert Member.objects.count() == 0


@pytest.mark.parametrize("data", [{}, {"file": "text"}, {"dry_run": "maybe"}])
def test_api_400_for_a_request_without_a_file(coordinator, data):
    response = client(coordinator, api=True).post("/api/v1/imports/", data, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] and response.json()["code"] == "invalid"


def test_api_400_for_a_file_that_is_no_archive(coordinator):
    response = post(client(coordinator, api=True), b"plain text", name="coop.txt")
    assert response.status_code == 400 and response.json()["errors"][0]["column"] == "file"


@pytest.mark.parametrize("role", ["anonymous", "cooperator", "cashier", "supply"])
def test_api_only_coordinators(role):
    who = None if role == "anonymous" else user(role, *({"cashier": ["cashiers"], "supply": ["supply"]}.get(role, [])))
    response = post(client(who, api=True), coop_zip())
    assert response.status_code == (401 if role == "anonymous" else 403)
    assert Member.objects.count() == 0


def test_the_schema_describes_the_import_operation():
    schema = client(api=True).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/imports/"]["post"]
    body = operation["requestBody"]["content"]
    assert list(body) == ["multipart/form-data"]
    assert {"200", "400", "401", "403"} <= set(operation["responses"])  # coopmarket.schema adds the common error answers


def test_nul_bytes_in_names_and_headers_and_broken_archives_never_crash(office, coordinator):
    content = files(templates_csv=[], members_csv=[member_row(1, "Ada", "Lovelace", "ftop")], shares_csv=[])
    raw = dict(to_bytes(content))
    raw["members.csv"] = raw["members.csv"].replace(b"first_name", b"first\x00name", 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in raw.items():
            archive.writestr(name, data)
        archive.writestr("odd\x00name.txt", b"x")
    response = upload(office, out.getvalue(), "co\x00op.zip")
    assert response.status_code == 302
    batch = ImportUpload.objects.get()
    assert "\x00" not in batch.filename
    assert any(e["message"] == "A NUL byte is not allowed in a cell." for e in batch.report["errors"])
    broken = out.getvalue()[:-30]  # the central directory cut off
    assert upload(office, broken).status_code == 200
    api = post(client(coordinator, api=True), broken)
    assert api.status_code == 400 and api.json()["errors"]
    fake_xlsx = io.BytesIO()
    with zipfile.ZipFile(fake_xlsx, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<nope")
        archive.writestr("xl/workbook.xml", b"<nope")
    assert post(client(coordinator, api=True), fake_xlsx.getvalue(), name="coop.xlsx").status_code == 400
    assert Member.objects.count() == 0
