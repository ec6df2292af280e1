"""A generated coop in the interchange format: members in every state, for the tests, the
benchmark and the downloadable example. Deterministic for a given seed. Pure (no database).

The share classes are the project's defaults (`A` cooperator shares, `B` supporting shares).
"""
from __future__ import annotations

import datetime
import random
import unicodedata

from members.barcodes import associate_barcode, ean13_check_digit

from .formats import FILES, format_cell

D = datetime.timedelta
FIRST = ["Alice", "Bruno", "Chloé", "David", "Élise", "Farid", "Gaëlle", "Hugo", "Inès", "Jules", "Karim", "Léa",
         "Marc", "Nadia", "Omar", "Pauline", "Quentin", "Rose", "Samir", "Théo", "Uma", "Victor", "Wendy", "Yanis", "Zoé"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
        "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "N'Diaye", "O'Brien"]
STATES = [
    # (weight, state)
    (30, "standard_ok"), (6, "standard_alert"), (4, "standard_suspended"), (2, "standard_delay"), (3, "standard_leave"),
    (2, "standard_exempted"), (2, "standard_no_slot_new"), (1, "standard_no_slot_old"), (14, "ftop_ok"), (4, "ftop_credit"),
    (4, "ftop_debt"), (1, "ftop_unsubscribed"), (2, "blocked"), (4, "left"), (4, "supporting"), (3, "unpaid"),
    (3, "instalments"), (3, "low_income"), (2, "standard_debt_and_credit"),
]


def _ascii(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if c.isascii() and c.isalnum())


def foreign_ean13(rng: random.Random) -> str:
    """A valid EAN-13 as another system would print it (not a 0420/0421 card of this project)."""
    body = "29" + "".join(rng.choice("0123456789") for _ in range(10))
    return body + ean13_check_digit(body)


def templates(capacity: int = 8) -> list[dict]:
    """Three shifts a day for the 28 days of the cycle (84 templates)."""
    rows = []
    days = ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"]
    for week in "ABCD":
        for weekday in range(7):
            for start, end in (((8, 0), (10, 45)), ((10, 45), (13, 30)), ((16, 30), (19, 15))):
                rows.append({
                    "name": f"{week} {days[weekday]} {start[0]:02d}h{start[1]:02d}", "week": week, "weekday": weekday,
                    "start_time": datetime.time(*start), "end_time": datetime.time(*end), "capacity": capacity,
                })
    return rows


def generate(members: int, *, today: datetime.date, seed: int = 13, capacity: int | None = None) -> dict[str, list[dict]]:
    """The files of a coop of `members` members as of `today` (rows as dicts of values)."""
    rng = random.Random(seed)
    slots_needed = members * 0.65
    capacity = capacity or max(8, int(slots_needed / 84) + 4)
    tmpl = templates(capacity)
    free = {t["name"]: t["capacity"] for t in tmpl}
    weights = [w for w, _s in STATES]
    names = [s for _w, s in STATES]
    files: dict[str, list[dict]] = {name: [] for name in FILES}
    files["templates.csv"] = tmpl
    number = 0
    for _index in range(members):
        number += 1 if rng.random() > 0.02 else 2  # a few numbers missing, as in any long-lived coop
        state = rng.choices(names, weights)[0]
        joined = today - D(days=rng.randint(40, 2000))
        first, last = rng.choice(FIRST), rng.choice(LAST)
        member = {
            "member_number": number, "first_name": first, "last_name": last,
            "email": f"{_ascii(first)}.{_ascii(last)}.{number}@example.org",
            "phone": f"06{rng.randint(10_000_000, 99_999_999)}" if rng.random() < 0.8 else None,
            "address": f"{rng.randint(1, 120)} rue des Lilas" if rng.random() < 0.6 else None,
            "postal_code": f"750{rng.randint(1, 20):02d}", "city": "Paris",
            "joined_on": joined, "shift_type": "ftop" if state.startswith("ftop") else "standard",
            "low_income": state == "low_income",
            "card_barcode": foreign_ean13(rng) if rng.random() < 0.15 else None,
        }
        if rng.random() < 0.05:
            member["notes"] = "Prefers morning shifts, \"early bird\"; speaks Spanish"
        shares = []
        paid_on = joined + D(days=rng.randint(0, 10))
        quantity = 1 if state == "low_income" else rng.choice([10, 10, 10, 12, 20])
        if state == "supporting":
            shares.append({"share_class": "B", "quantity": rng.randint(1, 5), "subscribed_on": paid_on})
        elif state == "unpaid":
            shares.append({"share_class": "A", "quantity": 10, "subscribed_on": paid_on, "amount_paid": "40.00"})
        elif state == "instalments":
            start = today - D(days=rng.randint(10, 80))
            paid_on = start
            member["joined_on"] = joined = min(joined, start)
            months = (today - start).days // 30 + 1
            shares.append({"share_class": "A", "quantity": 10, "subscribed_on": start, "instalments": 10,
                           "payments": [(start + D(days=30 * k), "10.00") for k in range(min(months, 10)) if start + D(days=30 * k) <= today]})
        else:
            shares.append({"share_class": "A", "quantity": quantity, "subscribed_on": paid_on})
            if rng.random() < 0.1:
                shares.append({"share_class": "B", "quantity": 2, "subscribed_on": paid_on + D(days=3) if paid_on + D(days=3) <= today else paid_on})
        working = state not in ("supporting", "left")
        if member["shift_type"] == "standard" and working and state not in ("standard_no_slot_new", "standard_no_slot_old"):
            choice = rng.choice([n for n, left in free.items() if left > 0] or [None])
            if choice:
                free[choice] -= 1
                member["slot_template"] = choice
                member["slot_start_date"] = max(joined, today - D(days=rng.randint(0, 700)))
        if state == "standard_no_slot_new":
            member["joined_on"] = joined = today - D(days=5)
            for share in shares:
                share["subscribed_on"] = joined
        if state in ("standard_alert", "standard_delay"):
            member["counter_standard"] = -rng.randint(1, 3)
            member["alert_started_on"] = today - D(days=rng.randint(1, 20))
        if state == "standard_suspended":
            member["counter_standard"] = -rng.randint(1, 4)
            member["alert_started_on"] = today - D(days=rng.randint(35, 90))
        if state == "standard_delay":
            member["alert_started_on"] = today - D(days=30)
            files["extensions.csv"].append({"member_number": number, "granted_on": today - D(days=3), "start": today - D(days=2),
                                            "end": today + D(days=25), "reason": "Health"})
        if state == "standard_debt_and_credit":
            member["counter_standard"], member["counter_ftop"] = -1, 2
        if state == "ftop_credit":
            member["counter_ftop"] = rng.randint(1, 4)
        if state == "ftop_debt":
            member["counter_ftop"] = -rng.randint(1, 5)
            if rng.random() < 0.5:
                member["alert_started_on"] = today - D(days=rng.randint(2, 60))
        if state == "ftop_unsubscribed":
            member["counter_ftop"], member["unsubscribed"] = -9, True
        if state == "blocked":
            member["blocked_reason"] = "Card lent to a neighbour"
        if state == "standard_leave":
            files["absences.csv"].append({"member_number": number, "kind": "leave", "start": today - D(days=10),
                                          "end": today + D(days=50), "reason": "Travelling"})
        if state == "standard_exempted":
            files["absences.csv"].append({"member_number": number, "kind": "exemption", "start": today - D(days=100), "end": None,
                                          "reason": "Health"})
        if rng.random() < 0.05 and working and joined + D(days=40) < today - D(days=20):
            files["absences.csv"].append({"member_number": number, "kind": "leave", "start": joined + D(days=1),
                                          "end": joined + D(days=40), "reason": "Past leave"})
        if state == "left":
            left_on = min(today - D(days=1), joined + D(days=rng.randint(30, 300)))
            member["left_on"] = left_on
            if rng.random() < 0.5 and left_on + D(days=2) <= today:
                shares[0]["payments"] = [(shares[0]["subscribed_on"], f"{shares[0]['quantity'] * 10}.00"),
                                         (left_on + D(days=1), f"-{shares[0]['quantity'] * 10}.00")]
        if rng.random() < 0.12:
            card = associate_barcode(number) if rng.random() < 0.4 else (foreign_ean13(rng) if rng.random() < 0.5 else None)
            files["associates.csv"].append({"member_number": number, "first_name": rng.choice(FIRST), "last_name": last,
                                            "card_barcode": card})
        if member["shift_type"] == "standard" and not member.get("counter_standard") and working and rng.random() < 0.1:
            member["work_start_date"] = member["joined_on"] + D(days=2)
        if member.get("alert_started_on"):
            member["alert_started_on"] = max(member["alert_started_on"], member["joined_on"])
        files["members.csv"].append(member)
        for share in shares:
            payments = share.pop("payments", None)
            files["shares.csv"].append({"member_number": number, "payment_method": rng.choice(["cash", "cheque", "transfer", "card"]),
                                        **share})
            if payments:
                for day, amount in payments:
                    files["payments.csv"].append({"member_number": number, "share_class": share["share_class"],
                                                  "subscribed_on": share["subscribed_on"], "amount": amount, "paid_on": day,
                                                  "payment_method": "transfer"})
    return files


def as_tables(files: dict[str, list[dict]]) -> dict[str, list[list[str]]]:
    """Rows of values -> rows of text, header first (every column of the format)."""
    return {
        name: [[c.name for c in FILES[name]]] + [[format_cell(row.get(c.name)) for c in FILES[name]] for row in rows]
        for name, rows in files.items()
    }
