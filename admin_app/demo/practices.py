"""The two demo practices as data: what differs between Lima and Vancouver, and nothing else.

`admin_app.demo` is the one generator; a practice here decides its names and languages, whether
clients have a national ID, phone numbers, sites and rooms, payers and how many clients they
refer, therapists' prices and compensation, caseloads and opening hours. Changing a number here
changes that demo only; Lima's numbers must stay as they are, or its data (and every figure a
test or a screenshot took from it) changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from admin_app.models import CompensationModel, InvoiceGrouping, PayerKind


@dataclass(frozen=True)
class NamePool:
    """Names of the people of one language; `share` is the part of the adult clients drawn from it."""

    language: str
    first_names: tuple[str, ...]
    surnames: tuple[str, ...]
    second_surname: bool = False  # Spanish custom: paternal and maternal surname
    share: float = 1.0
    children: NamePool | None = None  # the pool their children's names come from, when not this one


@dataclass(frozen=True)
class PhonePlan:
    """Mobile numbers in E.164: one of the prefixes, then a subscriber number in [low, high)."""

    prefixes: tuple[str, ...]
    subscriber: tuple[int, int]
    width: int


@dataclass(frozen=True)
class SitePlan:
    name: str
    address: str
    rooms: tuple[str, ...]


@dataclass(frozen=True)
class ApprovalPlan:
    """How a payer approves sessions: blocks of `weeks` (drawn between the two), chained one after the
    other for as long as the client is seen; references are the prefix and a running number."""

    reference_prefix: str
    weeks: tuple[int, int]
    rate: Decimal | None = None  # the approved rate, in the therapist's currency


@dataclass(frozen=True)
class PayerPlan:
    """A payer, its billing settings and the share of the referred clients it sends; insurers' clients
    have a policy number. A payer with `approvals` approves its clients' sessions (authorizations)."""

    name: str
    kind: PayerKind
    billing_email: str
    member_prefix: str
    share: float
    policy_prefix: str | None = None
    billing_address: str | None = None
    provider_number: str | None = None
    payment_terms_days: int = 30
    invoice_grouping: InvoiceGrouping = InvoiceGrouping.PER_CLIENT
    invoice_prefix: str | None = None  # its invoices are numbered in a series of their own
    counts_missed_sessions: bool = False
    refuses_over_approved: bool = False
    approvals: ApprovalPlan | None = None


@dataclass(frozen=True)
class Pricing:
    """A therapist's prices in one currency: round amounts, multiples of `step`."""

    currency: str
    fee: tuple[int, int]
    service_fee: tuple[int, int]
    step: int


@dataclass(frozen=True)
class Turnover:
    """Clients who come and go, as over years of a real practice (the benchmarks' practice; the demos
    keep their caseload): each slot's clients follow one another, each for a course of sessions."""

    sessions: tuple[int, int] = (6, 20)  # most courses, drawn between the two
    long_share: float = 0.15  # the courses that last longer
    long_sessions: tuple[int, int] = (21, 80)
    gap_weeks: tuple[int, int] = (1, 3)  # before the slot's next client starts


@dataclass(frozen=True)
class Caseload:
    """Who a therapist sees. The cycles are read by therapist position, so the mix is the same at any size."""

    adults: tuple[int, int]  # drawn between the two
    minors: tuple[int, ...]  # minors with a guardian (seen within the child's case)
    couples: tuple[int, ...]
    families: tuple[int, ...]  # a parent and a child meeting the therapist together
    weekly_share: float  # the rest meet every other week
    on_site_share: float  # asked for a room; the rest (and those who find none) meet by video
    hand_over_share: float  # adult cases that end and pass their slot to a new client
    turnover: Turnover | None = None  # set: every slot's clients come and go (no hand-over then)


@dataclass(frozen=True)
class Title:
    """A designation and the body that registers it; `feminine` where the language has one."""

    designation: str
    body: str
    feminine: str | None = None
    provisional_share: float = 0.0  # of the therapists holding it after the first: provisional registrants


@dataclass(frozen=True)
class CredentialPlan:
    """The therapists' credentials: titles by therapist position, in a cycle; registration numbers
    distinct, drawn in [low, high) and written with `number_format`."""

    titles: tuple[Title, ...]
    numbers: tuple[int, int]
    number_format: str = "{}"
    feminine_names: frozenset[str] = frozenset()


@dataclass(frozen=True)
class InvoicingPlan:
    """What the staff did beyond running and issuing each month's invoices: one line billed at a
    payer's agreed rate instead of the fee (on a payer's first invoice whose fee differs), and one
    invoice voided and invoiced again (the payer's first one); the reasons are the staff's words."""

    adjusted_payer: str
    adjusted_amount: Decimal
    adjustment_reason: str
    voided_payer: str
    void_reason: str
    # A payer whose last two months are left uninvoiced: the month-end run a new user tries first.
    left_to_run: str | None = None
    # An insurer that pays late: its most recent month invoiced is still unpaid past its terms, so
    # those sessions are held on the therapists' payout statements (demo/payouts.py).
    late_payer: str | None = None


@dataclass(frozen=True)
class DemoPractice:
    key: str
    label: str
    currencies: tuple[str, ...]
    locale: str  # the demo logins' language
    email_domain: str
    admin_email: str
    first_therapist: tuple[str, str, str | None]  # fixed, so their email marks a loaded demo at any size
    therapists: int  # how many `flask seed-demo` loads by default
    client_names: tuple[NamePool, ...]  # shares add up to 1
    therapist_names: tuple[NamePool, ...]
    national_ids: tuple[int, int] | None  # a range of unique numbers, or no national ID at all
    phones: PhonePlan
    sites: tuple[SitePlan, ...]
    payers: tuple[PayerPlan, ...]  # shares add up to 1
    referred_share: float  # clients a payer pays for; the rest pay themselves
    pricing: tuple[Pricing, ...]  # by therapist position, in a cycle
    compensation: tuple[CompensationModel, ...]  # by therapist position, in a cycle
    commission_percent: tuple[int, int]
    caseload: Caseload
    open_hours: tuple[int, int]  # local hours of the first and after the last session
    working_weekdays: tuple[int, ...]  # Monday is 0
    credentials: CredentialPlan
    invoicing: InvoicingPlan


SPANISH = NamePool(
    "es",
    first_names=(
        "Alejandro", "Ana", "Andrea", "Ángel", "Carla", "Carlos", "Carmen", "Catalina", "César", "Claudia",
        "Cristina", "Daniel", "Daniela", "Diego", "Eduardo", "Elena", "Fernando", "Gabriela", "Gonzalo", "Isabel",
        "Javier", "Jimena", "Jorge", "José", "Juan", "Julia", "Laura", "Leonardo", "Lorena", "Lucas",
        "Luis", "Manuel", "Marco", "María", "Mariana", "Martín", "Natalia", "Nicolás", "Patricia", "Pablo",
        "Paola", "Raúl", "Renato", "Ricardo", "Rocío", "Rosa", "Sebastián", "Sergio", "Sofía", "Valeria",
    ),
    surnames=(
        "Aguilar", "Alvarado", "Benavides", "Cáceres", "Castillo", "Chávez", "Córdova", "Cruz", "Delgado", "Espinoza",
        "Flores", "García", "Gonzales", "Gutiérrez", "Huamán", "Lozano", "Mendoza", "Morales", "Núñez", "Ortiz",
        "Palacios", "Paredes", "Quispe", "Ramírez", "Reyes", "Ríos", "Rojas", "Salazar", "Sánchez", "Silva",
        "Soto", "Tapia", "Torres", "Valdivia", "Vargas", "Vásquez", "Vega", "Villanueva", "Zamora", "Zevallos",
    ),
    second_surname=True,
    share=0.92,
)  # fmt: skip
# English speakers in Lima: their children take a Spanish first name and a second surname.
ENGLISH_IN_LIMA = NamePool(
    "en",
    first_names=("Emily", "James", "Olivia", "Michael", "Sarah", "David", "Hannah", "Thomas"),
    surnames=("Smith", "Johnson", "Brown", "Miller", "Wilson", "Taylor", "Clarke", "Walker"),
    share=0.08,
    children=SPANISH,
)

LIMA = DemoPractice(
    key="lima",
    label="Lima",
    currencies=("PEN", "USD"),
    locale="es",
    email_domain="example.com",
    admin_email="admin@example.com",
    first_therapist=("Lucía", "Paredes", "Salazar"),
    therapists=10,
    client_names=(ENGLISH_IN_LIMA, SPANISH),  # English first: the draw below 0.08 picks it
    therapist_names=(SPANISH,),
    national_ids=(10_000_000, 80_000_000),  # an 8-digit DNI
    phones=PhonePlan(("+519",), (0, 10**8), 8),
    sites=(
        SitePlan(
            "Sede Miraflores",
            "Av. José Larco 1150, Miraflores, Lima",
            ("Consultorio 1", "Consultorio 2", "Consultorio 3"),
        ),
        SitePlan("Sede San Isidro", "Calle Las Begonias 475, San Isidro, Lima", ("Consultorio A", "Consultorio B")),
    ),
    payers=(
        PayerPlan(
            "Andina Seguros EPS",
            PayerKind.INSURER,
            "facturacion@andinaseguros.example.com",
            "AS",
            2 / 3,
            "POL",
            billing_address="Av. Javier Prado Este 4200, Santiago de Surco, Lima",
            provider_number="IPRESS-20548",
            payment_terms_days=45,
            approvals=ApprovalPlan("AS-AUT-", weeks=(12, 24)),
        ),
        PayerPlan(
            "Programa Bienestar Minera del Sur",
            PayerKind.EMPLOYER,
            "bienestar@mineradelsur.example.com",
            "MS",
            1 / 3,
            billing_address="Calle Esquilache 371, San Isidro, Lima",
            invoice_grouping=InvoiceGrouping.PER_PERIOD,
        ),
    ),
    referred_share=0.25,
    # Every fifth therapist prices in dollars; every fourth is on a service fee.
    pricing=(
        Pricing("PEN", fee=(120, 200), service_fee=(40, 60), step=10),
        Pricing("PEN", fee=(120, 200), service_fee=(40, 60), step=10),
        Pricing("USD", fee=(50, 80), service_fee=(15, 25), step=5),
        Pricing("PEN", fee=(120, 200), service_fee=(40, 60), step=10),
        Pricing("PEN", fee=(120, 200), service_fee=(40, 60), step=10),
    ),
    compensation=(
        CompensationModel.COMMISSION,
        CompensationModel.SERVICE_FEE,
        CompensationModel.COMMISSION,
        CompensationModel.COMMISSION,
    ),
    commission_percent=(35, 50),
    # 14-16 adults, 0-2 minors, a couple every other therapist, all mostly weekly: 500+ sessions even in February.
    caseload=Caseload(
        adults=(14, 16),
        minors=(0, 1, 2),
        couples=(1, 0),
        families=(0,),
        weekly_share=0.92,
        on_site_share=0.5,
        hand_over_share=1 / 16,
    ),
    open_hours=(8, 20),
    working_weekdays=(0, 1, 2, 3, 4, 5),
    credentials=CredentialPlan(
        titles=(Title("Psicólogo", "Colegio de Psicólogos del Perú", feminine="Psicóloga"),),
        numbers=(10_000, 50_000),
        number_format="C.Ps.P. {}",
        feminine_names=frozenset(
            name
            for name in (*SPANISH.first_names, "Lucía")  # the first therapist's name too
            if name.endswith("a") or name in ("Carmen", "Isabel", "Rocío")
        ),
    ),
    invoicing=InvoicingPlan(
        adjusted_payer="Andina Seguros EPS",
        adjusted_amount=Decimal("120.00"),
        adjustment_reason="Tarifa pactada con la EPS para esta autorización",
        voided_payer="Andina Seguros EPS",
        void_reason="Número de autorización equivocado; se vuelve a facturar",
    ),
)

ENGLISH_IN_VANCOUVER = NamePool(
    "en",
    first_names=(
        "Emily", "James", "Olivia", "Michael", "Sarah", "David", "Hannah", "Thomas", "Jessica", "Ryan",
        "Megan", "Jason", "Rachel", "Kevin", "Lauren", "Andrew", "Amanda", "Brian", "Nicole", "Tyler",
        "Priya", "Arjun", "Mei", "Jun", "Grace", "Daniel", "Chloe", "Ethan", "Harpreet", "Ava",
    ),
    surnames=(
        "Smith", "Johnson", "Brown", "Miller", "Wilson", "Taylor", "Clarke", "Walker", "Campbell", "Anderson",
        "MacDonald", "Stewart", "Thompson", "Robertson", "Chen", "Wong", "Li", "Singh", "Sandhu", "Gill",
        "Nguyen", "Kim", "Patel", "Lee", "Murray", "Fraser", "Hughes", "Reid", "Scott", "Young",
    ),
    share=0.8,
)  # fmt: skip
FRENCH_IN_VANCOUVER = NamePool(
    "fr",
    first_names=(
        "Marie", "Jean", "Sophie", "Louis", "Camille", "Julien", "Émilie", "Mathieu", "Chloé", "Olivier",
        "Isabelle", "François", "Geneviève", "Étienne", "Amélie", "Philippe", "Élodie", "Sébastien", "Manon", "Luc",
    ),
    surnames=(
        "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin", "Gagné",
        "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron", "Leblanc", "Paquette", "Girard", "Simard", "Roux",
    ),
    share=0.2,
)  # fmt: skip

VANCOUVER = DemoPractice(
    key="vancouver",
    label="Vancouver",
    currencies=("CAD",),
    locale="en",
    email_domain="vancouver.example.com",
    admin_email="admin@vancouver.example.com",
    first_therapist=("Claire", "Tremblay", None),
    therapists=40,
    client_names=(ENGLISH_IN_VANCOUVER, FRENCH_IN_VANCOUVER),
    therapist_names=(ENGLISH_IN_VANCOUVER, FRENCH_IN_VANCOUVER),
    national_ids=None,  # Canada has none a practice may ask for: clients are known by their client number
    phones=PhonePlan(("+1604", "+1778", "+1236"), (2_000_000, 10_000_000), 7),
    sites=(
        SitePlan(
            "Downtown",
            "1055 West Georgia Street, Suite 1200, Vancouver, BC V6E 3P3",
            ("Room 1", "Room 2", "Room 3", "Room 4"),
        ),
        SitePlan("Kitsilano", "2250 West 4th Avenue, Vancouver, BC V6K 1N8", ("Room A", "Room B", "Room C")),
        SitePlan("Burnaby", "4720 Kingsway, Suite 900, Burnaby, BC V5H 4N2", ("Room 1", "Room 2")),
    ),
    # WorkSafeBC refuses sessions beyond what it approved; the EAP counts a missed session as used.
    payers=(
        PayerPlan(
            "ICBC",
            PayerKind.INSURER,
            "claims.invoices@icbc.example.com",
            "ICBC",
            0.35,
            "POL",
            billing_address="151 West Esplanade, North Vancouver, BC V7M 3H9",
            provider_number="ICBC-V40517",
            invoice_prefix="ICBC-",
            approvals=ApprovalPlan("C", weeks=(12, 24), rate=Decimal("205.00")),
        ),
        PayerPlan(
            "WorkSafeBC",
            PayerKind.PUBLIC,
            "invoices@worksafebc.example.com",
            "WSBC",
            0.25,
            billing_address="PO Box 5350 Stn Terminal, Vancouver, BC V6B 5L5",
            provider_number="WSBC-0931177",
            payment_terms_days=45,
            refuses_over_approved=True,
            approvals=ApprovalPlan("WSBC-", weeks=(8, 16), rate=Decimal("190.00")),
        ),
        PayerPlan(
            "Pacific EAP",
            PayerKind.EMPLOYER,
            "billing@pacificeap.example.com",
            "PEAP",
            0.25,
            billing_address="700 West Pender Street, Suite 410, Vancouver, BC V6C 1G8",
            provider_number="PEAP-2217",
            invoice_grouping=InvoiceGrouping.PER_PERIOD,
            counts_missed_sessions=True,
            approvals=ApprovalPlan("EAP-", weeks=(8, 12)),
        ),
        PayerPlan(
            "Crime Victim Assistance Program",
            PayerKind.PUBLIC,
            "cvap.invoices@gov.bc.example.com",
            "CVAP",
            0.15,
            billing_address="PO Box 9060 Stn Prov Govt, Victoria, BC V8W 9E2",
            provider_number="CVAP-V7720",
            payment_terms_days=60,
            approvals=ApprovalPlan("CVAP-", weeks=(16, 26)),
        ),
    ),
    referred_share=0.55,
    pricing=(Pricing("CAD", fee=(180, 240), service_fee=(45, 70), step=5),),
    # A network of contracted psychologists: a third pay the network a fixed fee per session.
    compensation=(CompensationModel.COMMISSION, CompensationModel.COMMISSION, CompensationModel.SERVICE_FEE),
    commission_percent=(60, 70),
    caseload=Caseload(
        adults=(7, 10),
        minors=(0, 1),
        couples=(1, 0, 0),
        families=(0, 0, 1),
        weekly_share=0.6,
        on_site_share=0.45,
        hand_over_share=1 / 10,
    ),
    open_hours=(8, 20),
    working_weekdays=(0, 1, 2, 3, 4),
    # Psychologists register with the college; clinical counsellors with their association (the
    # profession is not yet regulated in BC). A few psychologists are still provisional.
    credentials=CredentialPlan(
        titles=(
            Title("R.Psych.", "College of Health and Care Professionals of BC", provisional_share=0.2),
            Title("R.Psych.", "College of Health and Care Professionals of BC", provisional_share=0.2),
            Title("RCC", "BC Association of Clinical Counsellors"),
        ),
        numbers=(1_000, 20_000),
    ),
    invoicing=InvoicingPlan(
        adjusted_payer="WorkSafeBC",
        adjusted_amount=Decimal("190.00"),
        adjustment_reason="WorkSafeBC fee schedule: billed at the approved rate",
        voided_payer="ICBC",
        void_reason="Wrong claim number; invoiced again with the right one",
        left_to_run="ICBC",
        late_payer="ICBC",
    ),
)

PRACTICES = {practice.key: practice for practice in (LIMA, VANCOUVER)}

# The benchmarks' practice (bench/run.py): Lima's, with clients who come and go over the years.
LIMA_TURNOVER = replace(LIMA, caseload=replace(LIMA.caseload, turnover=Turnover()))
