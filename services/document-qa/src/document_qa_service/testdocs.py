"""Generated documents with known facts, for the tests and the benchmark (all fictional).

Each `Fact` is one sentence placed in one document, a question about it worded differently, and
the key words a correct answer sentence contains. Documents come as plain text, Markdown, HTML,
DOCX, a text PDF (facts on several pages) and a scanned PDF (the text PDF's pages as images,
so only OCR can read them); distractor documents talk about similar things with other values."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    doc: str
    sentence: str
    question: str
    key: str
    page: int = 1


FACTS: list[Fact] = [
    # museum.txt (plain text)
    Fact("museum", "The Harbor Lighthouse Museum opens at 9:30 every morning from April to October.",
         "What time does the Harbor Lighthouse Museum open?", "9:30"),
    Fact("museum", "Admission to the lighthouse museum costs 14 euros for adults and children under twelve enter free.",
         "How much is an adult ticket for the lighthouse museum?", "14 euros"),
    Fact("museum", "The lighthouse lamp was built in 1874 by the glassmaker Otto Brandvik.",
         "Who built the lighthouse lamp?", "Brandvik"),
    Fact("museum", "Guided tours of the lantern room leave from the gift shop every forty minutes.",
         "Where do guided tours of the lantern room start?", "gift shop"),
    Fact("museum", "The museum's oldest exhibit is a brass foghorn salvaged from the schooner Maribel.",
         "What is the oldest exhibit in the museum?", "foghorn"),
    Fact("museum", "Visitors may park their cars at the Quay Street garage, which is 300 metres from the entrance.",
         "Where can museum visitors park?", "Quay Street"),
    # aurora.md (Markdown)
    Fact("aurora", "Every pull request in Project Aurora needs approval from two reviewers before it is merged.",
         "How many reviewers must approve an Aurora pull request?", "two reviewers"),
    Fact("aurora", "Aurora's nightly build runs at 02:15 UTC on the Kestrel build cluster.",
         "When does the Aurora nightly build run?", "02:15"),
    Fact("aurora", "Production incidents in Aurora are reported in the channel named aurora-firewatch.",
         "Which channel is used to report Aurora production incidents?", "aurora-firewatch"),
    Fact("aurora", "The Aurora team writes its backend services in Rust and its dashboards in TypeScript.",
         "What language are the Aurora backend services written in?", "Rust"),
    Fact("aurora", "Feature flags in Aurora are removed no later than 60 days after a full rollout.",
         "How long may an Aurora feature flag stay after full rollout?", "60 days"),
    Fact("aurora", "Database migrations for Aurora must be reversible and are tested against a copy of staging.",
         "What must Aurora database migrations be?", "reversible"),
    # garden.html (HTML)
    Fact("garden", "Greenfield Community Garden has 48 raised beds that members rent for one season at a time.",
         "How many raised beds does Greenfield Community Garden have?", "48"),
    Fact("garden", "The garden's rainwater tanks hold 12,000 litres and supply all watering in summer.",
         "How much water do the garden's rainwater tanks hold?", "12,000"),
    Fact("garden", "Compost at Greenfield is turned every Saturday by the volunteer group called the Wormherders.",
         "Which volunteer group turns the compost at Greenfield?", "Wormherders"),
    Fact("garden", "A yearly membership of the community garden costs 35 pounds, payable in March.",
         "What does a yearly garden membership cost?", "35 pounds"),
    Fact("garden", "Glass containers and pesticides are not allowed anywhere inside the garden gates.",
         "What is forbidden inside the garden gates?", "pesticides"),
    Fact("garden", "The garden's beehives are looked after by a beekeeper named Rosalind Achterberg.",
         "Who looks after the garden's beehives?", "Achterberg"),
    # bakery.docx (DOCX, a page break before the last three facts)
    Fact("bakery", "Staff at Orion Bakery start the first ovens at 4:45 in the morning.",
         "When are the first ovens started at Orion Bakery?", "4:45"),
    Fact("bakery", "Orion Bakery's sourdough starter is called Big Clement and is fed with rye flour twice a day.",
         "What is the name of the Orion Bakery sourdough starter?", "Clement"),
    Fact("bakery", "Employees receive a discount of 30 percent on everything sold in the bakery shop.",
         "What discount do bakery employees get?", "30 percent"),
    Fact("bakery", "Hairnets and blue gloves must be worn whenever dough is handled by hand.", 
         "What must bakery staff wear when handling dough by hand?", "gloves", 2),
    Fact("bakery", "Unsold bread is collected each evening by the Linden Street food bank.",
         "What happens to the bakery's unsold bread?", "food bank", 2),
    Fact("bakery", "Holiday requests at the bakery must be handed in six weeks in advance to the shift manager.",
         "How early must bakery holiday requests be made?", "six weeks", 2),
    # railway.pdf (text PDF, three pages)
    Fact("railway", "Velmora Rail trains between Ostrand and Pellham run every 20 minutes on weekdays.",
         "How often do Velmora Rail trains run between Ostrand and Pellham on weekdays?", "20 minutes"),
    Fact("railway", "Passengers may bring one bicycle per person on Velmora regional trains outside rush hour.",
         "Can passengers bring bicycles on Velmora regional trains?", "bicycle"),
    Fact("railway", "A refund is paid when a Velmora train arrives more than 25 minutes late.",
         "When does Velmora Rail pay a refund for a late train?", "25 minutes", 2),
    Fact("railway", "The Velmora night service stops at Ferncliff only on request to the conductor.",
         "Does the Velmora night train stop at Ferncliff?", "request", 2),
    Fact("railway", "Season tickets for Velmora Rail are sold at a 40 percent discount to students.",
         "What discount do students get on Velmora season tickets?", "40 percent", 3),
    Fact("railway", "Lost property found on Velmora trains is kept at the Pellham central station for 90 days.",
         "Where is lost property from Velmora trains kept?", "Pellham", 3),
    # library.pdf (scanned PDF: page images only)
    Fact("library", "Quill Valley Library lends up to 15 books at once to every card holder.",
         "How many books can a Quill Valley Library card holder borrow at once?", "15 books"),
    Fact("library", "The library charges a late fee of 20 cents per book for each day.",
         "What is the late fee at Quill Valley Library?", "20 cents"),
    Fact("library", "The reading room on the second floor is silent and closes at 8 in the evening.",
         "When does the library reading room close?", "8 in the evening"),
    Fact("library", "Quill Valley Library was founded in 1921 with a gift from the mill owner Hester Grainger.",
         "Who funded the founding of Quill Valley Library?", "Grainger", 2),
    Fact("library", "Printing at the library costs 10 cents for each black and white page.",
         "How much does printing a page cost at the library?", "10 cents", 2),
    Fact("library", "Children's story time takes place every Wednesday at 10 in the morning.",
         "When is children's story time at the library?", "Wednesday", 2),
    # observatory.md (Markdown)
    Fact("observatory", "The Solstice Observatory telescope has a mirror 1.8 metres across.",
         "How large is the mirror of the Solstice Observatory telescope?", "1.8 metres"),
    Fact("observatory", "Public stargazing nights at the observatory are held on the first Friday of each month.",
         "When are public stargazing nights held at the observatory?", "first Friday"),
    Fact("observatory", "The observatory sits at an altitude of 2,340 metres on Mount Kellis.",
         "At what altitude is the Solstice Observatory?", "2,340"),
    Fact("observatory", "Telescope time for researchers is allocated by a committee twice a year, in May and November.",
         "How is telescope time allocated to researchers?", "committee"),
    Fact("observatory", "The observatory's dome was replaced in 2019 after a storm damaged the old one.",
         "When was the observatory dome replaced?", "2019"),
    Fact("observatory", "Visitors to the observatory must use red torches so that astronomers keep their night vision.",
         "Why must observatory visitors use red torches?", "night vision"),
    # clinic.txt (plain text)
    Fact("clinic", "The Birchwood Veterinary Clinic treats emergencies around the clock on weekends.",
         "Does Birchwood Veterinary Clinic treat emergencies on weekends?", "around the clock"),
    Fact("clinic", "A first consultation for a cat or dog at Birchwood costs 55 dollars.",
         "What does a first consultation cost at Birchwood Veterinary Clinic?", "55 dollars"),
    Fact("clinic", "Vaccination reminders from the clinic are sent by text message two weeks before they are due.",
         "How does the veterinary clinic remind owners about vaccinations?", "text message"),
    Fact("clinic", "Birchwood's head veterinarian, Dr. Imke Sollander, specialises in exotic birds.",
         "Who is the head veterinarian at Birchwood?", "Sollander"),
]

FILLER = [
    "This section was reviewed by the editorial team last spring.",
    "Further details are available from the front desk during opening hours.",
    "The information here may change, so please check the notice board regularly.",
    "Comments and suggestions are always welcome and can be sent by post.",
    "Thank you for reading this guide carefully before your first visit.",
    "Photographs in this document are for illustration only.",
    "We are grateful to everyone who helped to prepare these pages.",
    "Older editions of this document are kept in the archive.",
]

DISTRACTORS: dict[str, str] = {
    "distractor-museum.txt": (
        "The Maritime Rope Museum in Caldby opens at 11:00 on weekends only. Admission costs 6 euros. "
        "Its collection shows ropes and knots from the nineteenth century. The museum shop sells postcards "
        "and maps. Parking is available behind the town hall. Groups should book a week ahead."),
    "distractor-library.md": (
        "# Stonebridge Reading Club\n\nThe Stonebridge Reading Club meets on Tuesday evenings in the town hall. "
        "Members borrow two books a month from the club shelf. There is no late fee, but books should be "
        "returned within four weeks. The club was started by a group of retired teachers.\n"),
    "distractor-rail.html": (
        "<html><head><title>Harlow Bus Company</title></head><body><h1>Harlow Bus Company</h1>"
        "<p>Harlow buses run every 30 minutes between the market square and the hospital.</p>"
        "<p>Dogs travel free on all Harlow buses. Night buses run on Fridays and Saturdays only.</p>"
        "<p>Tickets can be bought from the driver with cash or a card.</p></body></html>"),
    "distractor-kitchen.txt": (
        "The Copperpot cooking school teaches bread making on Thursday afternoons. Students bake in groups of "
        "four. Aprons are provided, and every student takes home what they baked. The course lasts eight weeks "
        "and ends with a tasting evening for families."),
    "distractor-space.md": (
        "# Planetarium shows\n\nThe city planetarium shows films about the solar system every afternoon. "
        "Tickets cost 9 euros. The dome seats 120 visitors. School classes can book morning shows."),
}

FILES = {"museum": "museum.txt", "aurora": "aurora.md", "garden": "garden.html", "bakery": "bakery.docx",
         "railway": "railway.pdf", "library": "library-scan.pdf", "observatory": "observatory.md",
         "clinic": "clinic.txt"}
TITLES = {"museum": "Harbor Lighthouse Museum visitor guide", "aurora": "Project Aurora engineering handbook",
          "garden": "Greenfield Community Garden", "bakery": "Orion Bakery employee guide",
          "railway": "Velmora Rail passenger conditions", "library": "Quill Valley Library",
          "observatory": "Solstice Observatory", "clinic": "Birchwood Veterinary Clinic"}
CONTENT_TYPES = {".txt": "text/plain", ".md": "text/markdown", ".html": "text/html", ".pdf": "application/pdf",
                 ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def content_type(filename: str) -> str:
    return CONTENT_TYPES["." + filename.rsplit(".", 1)[-1]]


def _pages(doc: str, seed: int = 7) -> list[list[str]]:
    """The paragraphs of each page of a document: its facts, each followed by filler sentences."""
    rng = random.Random(f"{doc}-{seed}")
    facts = [f for f in FACTS if f.doc == doc]
    pages: list[list[str]] = [[] for _ in range(max(f.page for f in facts))]
    for f in facts:
        filler = " ".join(rng.sample(FILLER, 2))
        pages[f.page - 1].append(f"{f.sentence} {filler}")
    return pages


def text_document(doc: str) -> str:
    return TITLES[doc] + "\n\n" + "\n\n".join(p for page in _pages(doc) for p in page) + "\n"


def markdown_document(doc: str) -> str:
    parts = [f"# {TITLES[doc]}\n"]
    for i, para in enumerate(p for page in _pages(doc) for p in page):
        if i % 2 == 0:
            parts.append(f"## Section {i // 2 + 1}\n")
        parts.append(para.replace(". ", ". **Note:** ", 1) if i == 1 else para)
        parts.append("")
    return "\n".join(parts)


def html_document(doc: str) -> str:
    paras = "".join(f"<p>{p}</p>\n" for page in _pages(doc) for p in page)
    return (f"<!DOCTYPE html><html><head><title>{TITLES[doc]}</title><style>p {{ color: green; }}</style>"
            f"<script>var tracking = 'not text';</script></head><body><nav><a href='/'>Home</a></nav>"
            f"<h1>{TITLES[doc]}</h1>\n{paras}</body></html>")


def docx_document(doc: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(TITLES[doc], level=1)
    for i, page in enumerate(_pages(doc)):
        if i:
            document.add_page_break()
        for para in page:
            document.add_paragraph(para)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def pdf_document(doc: str, font_size: int = 11) -> bytes:
    """A text PDF with one page per fact page (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    body = styles["BodyText"].clone("body", fontSize=font_size, leading=font_size * 1.4)
    story = [Paragraph(TITLES[doc], styles["Title"])]
    for i, page in enumerate(_pages(doc)):
        if i:
            story.append(PageBreak())
        for para in page:
            story += [Paragraph(para, body), Spacer(1, 8)]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=TITLES[doc]).build(story)
    return buf.getvalue()


def scanned_pdf(pdf: bytes, dpi: int = 150) -> bytes:
    """The pages of `pdf` as images in a new PDF with no text layer, as a scanner makes them."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(pdf)
    images = [src[i].render(scale=dpi / 72).to_pil().convert("L") for i in range(len(src))]
    src.close()
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return buf.getvalue()


def corpus() -> dict[str, bytes]:
    """filename -> bytes of every generated document, the distractors included."""
    out: dict[str, bytes] = {}
    for doc, name in FILES.items():
        if name.endswith(".txt"):
            out[name] = text_document(doc).encode()
        elif name.endswith(".md"):
            out[name] = markdown_document(doc).encode()
        elif name.endswith(".html"):
            out[name] = html_document(doc).encode()
        elif name.endswith(".docx"):
            out[name] = docx_document(doc)
        elif doc == "library":
            out[name] = scanned_pdf(pdf_document(doc, font_size=14))
        else:
            out[name] = pdf_document(doc)
    out.update({name: text.encode() for name, text in DISTRACTORS.items()})
    return out
