"""Demo posts and officers for every role, in Baghpat and the state control rooms.

Development only: every demo officer shares one known password (``DEMO_PASSWORD``) so a
developer can sign in as each role; the console SMS backend prints the one-time code.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from cplan.extensions import db
from cplan.models.accounts import Officer, Post, PostAssignment, Role
from cplan.models.base import utcnow
from cplan.models.geo import Unit, UnitKind
from cplan.services import audit, geo

DEMO_PASSWORD = "baghpat-demo-2026"


@dataclass(frozen=True)
class DemoPost:
    """One demo post: where it sits, its CUG and the officers who hold it (PNO, name, Hindi name,
    rank)."""

    key: str
    role: Role
    title_en: str
    title_hi: str
    cug: str
    officers: tuple[tuple[str, str, str, str], ...]


# Units are found by ``key``: "state", "district", "circle:<name>", "station:<English name>".
DEMO_POSTS = (
    DemoPost(
        "state",
        Role.STATE_ADMIN,
        "State administrator, C-Plan cell",
        "राज्य प्रशासक, सी-प्लान प्रकोष्ठ",
        "+919000000001",
        (("100000001", "Anita Srivastava", "अनीता श्रीवास्तव", "Superintendent of Police"),),
    ),
    DemoPost(
        "state",
        Role.CONTROL_ROOM,
        "UP-112 supervisor, shift B",
        "यूपी-112 पर्यवेक्षक, पाली बी",
        "+919000000002",
        (("100000002", "Manoj Tiwari", "मनोज तिवारी", "Inspector"),),
    ),
    DemoPost(
        "state",
        Role.CONTROL_ROOM,
        "DGP control room supervisor",
        "डीजीपी नियंत्रण कक्ष पर्यवेक्षक",
        "+919000000003",
        (("100000003", "Farhan Ali", "फ़रहान अली", "Inspector"),),
    ),
    DemoPost(
        "district",
        Role.SP_OFFICE,
        "SP office Baghpat",
        "पुलिस अधीक्षक कार्यालय बागपत",
        "+919000001240",
        (("124000001", "Rakesh Yadav", "राकेश यादव", "Inspector"),),
    ),
    DemoPost(
        "district",
        Role.ASP,
        "ASP Baghpat",
        "अपर पुलिस अधीक्षक बागपत",
        "+919000001241",
        (("124000002", "Sunita Chauhan", "सुनीता चौहान", "Additional SP"),),
    ),
    DemoPost(
        "circle:Baraut",
        Role.CIRCLE_OFFICER,
        "CO Baraut",
        "क्षेत्राधिकारी बड़ौत",
        "+919000001242",
        (("124000003", "Vikas Malik", "विकास मलिक", "Deputy SP"),),
    ),
    DemoPost(
        "station:Baraut",
        Role.STATION_OFFICER,
        "SHO Baraut",
        "थाना प्रभारी बड़ौत",
        "+919000001243",
        (("124000004", "Sanjay Tomar", "संजय तोमर", "Inspector"),),
    ),
    DemoPost(
        "station:Baraut",
        Role.CONSTABLE,
        "Baraut station desk",
        "थाना बड़ौत डेस्क",
        "+919000001244",
        (
            ("124000005", "Amit Dhama", "अमित ढामा", "Head Constable"),
            ("124000006", "Pooja Rana", "पूजा राणा", "Constable"),
        ),
    ),
    DemoPost(
        "station:Khekada",
        Role.STATION_OFFICER,
        "SHO Khekada",
        "थाना प्रभारी खेकड़ा",
        "+919000001245",
        (("124000007", "Deepak Sharma", "दीपक शर्मा", "Inspector"),),
    ),
)


def _unit_for(key: str, state: Unit, district: Unit) -> Unit | None:
    if key == "state":
        return state
    if key == "district":
        return district
    kind, name = key.split(":", 1)
    unit_kind = UnitKind.CIRCLE if kind == "circle" else UnitKind.STATION
    query = geo.units_under(district, unit_kind)
    if unit_kind == UnitKind.CIRCLE:
        query = query.where(Unit.name_en.like(f"{name}%"))
    else:
        query = query.where(Unit.name_en == name)
    return db.session.scalars(query.order_by(Unit.id)).first()


def ensure_demo_people(state: Unit, district: Unit) -> list[str]:
    """Create the demo posts and officers that do not exist yet; returns what was made."""
    made: list[str] = []
    password_hash = generate_password_hash(DEMO_PASSWORD)
    for spec in DEMO_POSTS:
        unit = _unit_for(spec.key, state, district)
        if unit is None:
            made.append(f"skipped {spec.title_en}: no unit {spec.key}")
            continue
        post = db.session.scalar(
            select(Post).where(Post.cug_number == spec.cug, Post.active.is_(True))
        )
        if post is None:
            post = Post(
                title_en=spec.title_en,
                title_hi=spec.title_hi,
                role=spec.role,
                unit=unit,
                cug_number=spec.cug,
            )
            db.session.add(post)
            made.append(f"post {spec.title_en}")
        for pno, name, name_hi, rank in spec.officers:
            officer = db.session.scalar(select(Officer).where(Officer.pno == pno))
            if officer is None:
                home = district if spec.key != "state" else state
                officer = Officer(
                    pno=pno,
                    name=name,
                    name_hi=name_hi,
                    rank=rank,
                    unit=home,
                    password_hash=password_hash,
                    password_set_at=utcnow(),
                )
                db.session.add(officer)
                db.session.add(PostAssignment(officer=officer, post=post))
                made.append(f"officer {pno} {name}")
            elif not officer.name_hi:  # a demo loaded before officers had Hindi names
                officer.name_hi = name_hi
                made.append(f"Hindi name of {pno}")
    db.session.flush()
    if made:
        audit.record("demo.people_loaded", unit=state, detail={"created": len(made)})
    return made


def sign_in_lines(sign_in_url: str = "http://127.0.0.1:5000/auth/sign-in") -> list[str]:
    """How to sign in as each demo post (for the console after ``make run``)."""
    lines = [
        f"Sign in at {sign_in_url} as any demo post:",
        "  1. enter the post's CUG number;",
        "  2. copy the 6-digit code from the '[sms] ...' line this console prints;",
        f"  3. enter one of the post's PNOs and the demo password: {DEMO_PASSWORD}",
        "",
        f"  {'CUG':<12} {'post':<34} {'role':<16} PNO (name)",
    ]
    for spec in DEMO_POSTS:
        officers = ", ".join(f"{pno} ({name})" for pno, name, _name_hi, _rank in spec.officers)
        lines.append(f"  {spec.cug[3:]:<12} {spec.title_en:<34} {spec.role.value:<16} {officers}")
    return lines
