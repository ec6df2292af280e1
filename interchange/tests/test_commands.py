"""import_coop and export_coop (CONTRACT.md §7): folder, .zip and .xlsx, exit status 1 on errors."""
import io
import zipfile

import openpyxl
import pytest
from django.core.management import call_command

from interchange.export import coop_export, write_path
from interchange.formats import FILES
from interchange.reader import read_path
from members.models import Member

from .helpers import TODAY, files, generated, member_row, run_tables, share_row, template_row, to_bytes

pytestmark = pytest.mark.django_db


def write_files(folder, content):
    folder.mkdir(exist_ok=True)
    for name, data in to_bytes(content):
        (folder / name).write_bytes(data)
    return folder


def small():
    return files(templates_csv=[template_row("A Lundi matin")],
                 members_csv=[member_row(1, "Ada", "Lovelace", slot_template="A Lundi matin"), member_row(2, "Bob", "Marley", "ftop",
                                                                                                  notes="=HYPERLINK(\"x\")")],
                 shares_csv=[share_row(1), share_row(2)])


def import_coop(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_coop", *args, "--today", TODAY.isoformat(), stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_import_a_folder_dry_run_then_for_real_then_again(tmp_path):
    folder = write_files(tmp_path / "coop", small())
    code, out, _err = import_coop(str(folder), "--dry-run")
    assert code == 0 and "Dry run (nothing written): would import: " in out and Member.objects.count() == 0
    code, out, _err = import_coop(str(folder))
    assert code == 0 and out.startswith("Imported: ") and "members 2" in out and Member.objects.count() == 2
    code, out, _err = import_coop(str(folder))
    assert code == 0 and "Imported: 0 created, 0 changed" in out


def test_errors_go_to_stderr_one_per_line_and_the_exit_status_is_1(tmp_path):
    content = small()
    content["members.csv"][0]["email"] = "nope"
    content["shares.csv"].append(share_row(5))
    code, _out, err = import_coop(str(write_files(tmp_path / "coop", content)))
    assert code == 1
    assert err.splitlines() == [
        "members.csv:2: email: Enter a valid e-mail address.",
        "shares.csv:4: member_number: No member 000005 in members.csv.",
        "2 error(s): nothing imported.",
    ]
    assert Member.objects.count() == 0


def test_a_path_that_is_no_folder_zip_or_workbook_is_a_command_error(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("import_coop", str(tmp_path / "missing"))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CommandError):
        call_command("import_coop", str(tmp_path / "notes.txt"))


def test_export_writes_every_file_optional_ones_included_and_reimports_from_zip_and_xlsx(tmp_path):
    assert run_tables(generated(40)).ok
    for suffix in ("", ".zip", ".xlsx"):
        out = io.StringIO()
        target = tmp_path / f"export{suffix}"
        call_command("export_coop", str(target), "--today", TODAY.isoformat(), stdout=out)
        assert "members.csv 40" in out.getvalue()
        source = read_path(target)
        assert sorted(source.sheets) == sorted(FILES)
        assert source.problems == []
        code, text, err = import_coop(str(target), "--dry-run")
        assert code == 0 and "would import: 0 created, 0 changed" in text, err


def test_an_xlsx_keeps_text_that_looks_like_a_formula_or_a_number(tmp_path):
    import_coop(str(write_files(tmp_path / "coop", small())))
    Member.objects.filter(member_number=1).update(phone="0612345678", postal_code="01000")
    target = write_path(coop_export(today=TODAY), tmp_path / "coop.xlsx")
    sheet = openpyxl.load_workbook(target, read_only=True)["members"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    by_number = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_number["1"]["phone"] == "0612345678" and by_number["1"]["postal_code"] == "01000"
    assert by_number["2"]["notes"] == '=HYPERLINK("x")'


def test_a_workbook_made_by_hand_with_dates_times_and_numbers_as_cells(tmp_path):
    import datetime

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    sheets = {
        "templates": [["name", "week", "weekday", "start_time", "end_time", "capacity"], ["Matin", "A", 0, datetime.time(9), datetime.time(12), 6]],
        "members": [["member_number", "first_name", "last_name", "email", "joined_on", "shift_type", "slot_template", "counter_standard"],
                    [12, "Ada", "Lovelace", "ada@example.org", datetime.datetime(2025, 1, 10), "standard", "Matin", -1.0]],
        "shares": [["member_number", "share_class", "quantity", "subscribed_on", "amount_paid"], [12, "A", 10, datetime.date(2025, 1, 10), 100.5]],
        "associates": [["member_number", "first_name", "last_name"]],
        "absences": [["member_number", "kind", "start", "end"]],
        "Notes": [["anything"], ["ignored"]],
    }
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "coop.xlsx"
    workbook.save(path)
    code, out, err = import_coop(str(path))
    assert code == 1 and "shares.csv:2: amount_paid: More than the subscription's amount (100.00)." in err
    sheets["shares"][1][4] = 100
    workbook = openpyxl.load_workbook(path)
    workbook["shares"]["E2"] = 100
    workbook.save(path)
    code, out, err = import_coop(str(path))
    assert code == 0, err
    assert "warning: Notes: -: Not an interchange file: ignored." in out
    ada = Member.objects.get(member_number=12)
    assert (ada.counter_standard, ada.joined_on.isoformat()) == (-1, "2025-01-10")


def test_a_zip_with_its_files_in_a_folder_and_other_files_beside(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in to_bytes(small()):
            archive.writestr(f"export-2026/{name}", data)
        archive.writestr("export-2026/README.txt", "hello")
        archive.writestr("__MACOSX/export-2026/._members.csv", "junk")
    path = tmp_path / "coop.zip"
    path.write_bytes(out.getvalue())
    code, text, err = import_coop(str(path))
    assert code == 0, err
    assert "warning: export-2026/README.txt: -: Not an interchange file: ignored." in text
    assert Member.objects.count() == 2


def test_a_zip_too_large_once_unpacked_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr("interchange.reader.MAX_TOTAL_BYTES", 1000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("members.csv", "a" * 5000)
    path = tmp_path / "bomb.zip"
    path.write_bytes(out.getvalue())
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="too large"):
        call_command("import_coop", str(path))
