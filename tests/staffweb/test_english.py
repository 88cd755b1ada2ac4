"""The staff pages in English: every text of the IT and Effekt pages (templates and code) and every choice label
of the models has its English in the committed .mo; the pages switched to English show it, and a platform
problem is said in the page's language."""

import gettext
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise

from backend.errors import InvalidInput
from backend.models import StaffRole
from staffweb import problems
from tests import factories as core
from tests.staffweb.helpers import web_client
from tests.staffweb.test_plan_pages import _po_entries
from tests.velfaerdsteknologi.factories import DeviceFactory, DeviceModelFactory
from velfaerdsteknologi.models import DeviceStatus

LOCALE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
STAFFWEB = Path(settings.BASE_DIR) / "staffweb"
TEMPLATES = [
    *sorted((STAFFWEB / "templates" / "staffweb" / "it").glob("*.html")),
    *sorted((STAFFWEB / "templates" / "staffweb" / "effekt").glob("*.html")),
]
CODE = [*sorted((STAFFWEB / "views" / "it").glob("*.py")), STAFFWEB / "views" / "effekt.py", STAFFWEB / "context.py"]
# The apps whose models' choices the staff pages show.
CHOICE_APPS = ("backend", "velfaerdsteknologi", "selvbetjening", "effekt", "notifications")
# Labels that are names or codes, the same in both languages (left out of the translation).
SAME_IN_ENGLISH = {"Access", "Refresh", "API", "CSV", "MeasureReport", "iOS", "Android", "Dansk", "English"}

TRANSLATE = re.compile(r"""{%\s*translate\s+(?:"([^"]*)"|'([^']*)')""")
BLOCK = re.compile(r"{%\s*blocktranslate\b[^%]*%}(.*?){%\s*endblocktranslate\s*%}", re.DOTALL)
VARIABLE = re.compile(r"{{\s*(\w+)\s*}}")
CALL = re.compile(r"""\b(?:_|gettext|gettext_lazy|gettext_noop)\(\s*"((?:[^"\\]|\\.)*)"\s*\)""")


def _compiled() -> gettext.GNUTranslations:
    with (LOCALE / "django.mo").open("rb") as handle:
        return gettext.GNUTranslations(handle)


def _template_texts(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    found: set[str | tuple[str, str]] = {single or double for single, double in TRANSLATE.findall(text)}
    for block in BLOCK.findall(text):
        forms = [VARIABLE.sub(lambda match: f"%({match.group(1)})s", form) for form in block.split("{% plural %}")]
        found.add(forms[0] if len(forms) == 1 else (forms[0], forms[1]))
    return found


def _missing(texts, catalog, entries) -> list[str]:
    missing = []
    for text in texts:
        if isinstance(text, tuple):
            singular, plural = text
            if catalog.ngettext(singular, plural, 1) == singular or catalog.ngettext(singular, plural, 2) == plural:
                missing.append(singular)
        elif text not in entries or catalog.gettext(text) != entries[text]:
            missing.append(text)
    return sorted(missing)


def _code_texts(path: Path) -> set[str]:
    return {
        match.encode().decode("unicode_escape").encode("latin-1").decode()
        for match in CALL.findall(path.read_text(encoding="utf-8"))
    }


def _choice_labels() -> list[tuple[str, object]]:
    labels = []
    for app in CHOICE_APPS:
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.get_fields():
                for _value, label in getattr(field, "flatchoices", None) or []:
                    labels.append((f"{model.__name__}.{field.name}", label))
    return labels


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_text_of_the_it_and_effekt_templates_has_its_english_compiled(path):
    catalog, entries = _compiled(), _po_entries((LOCALE / "django.po").read_text(encoding="utf-8"))
    missing = _missing(_template_texts(path), catalog, entries)
    assert not missing, missing


@pytest.mark.parametrize("path", CODE, ids=lambda path: path.name)
def test_every_text_of_the_it_and_effekt_code_has_its_english_compiled(path):
    catalog, entries = _compiled(), _po_entries((LOCALE / "django.po").read_text(encoding="utf-8"))
    missing = _missing(_code_texts(path), catalog, entries)
    assert not missing, missing


def test_the_it_code_puts_its_texts_through_translation():
    """A Danish literal left in IT's code would stay Danish in English: every text is in a translation call."""
    assert sum(len(_code_texts(path)) for path in CODE) > 200


def test_every_choice_label_is_translated_and_has_its_english_compiled():
    catalog, entries = _compiled(), _po_entries((LOCALE / "django.po").read_text(encoding="utf-8"))
    labels = _choice_labels()
    assert len(labels) > 150
    plain = sorted(
        {f"{where}: {label}" for where, label in labels if not isinstance(label, Promise)}
        - {f"{where}: {label}" for where, label in labels if label in SAME_IN_ENGLISH}
    )
    assert not plain, plain
    missing = []
    for where, label in labels:
        if not isinstance(label, Promise):
            continue
        with translation.override("da"):
            danish = str(label)
        with translation.override("en"):
            english = str(label)
        # English of its own (a bilingual title), or the catalogue's.
        if english == danish and (danish not in entries or catalog.gettext(danish) != entries[danish]):
            missing.append(f"{where}: {danish}")
    assert not missing, missing


def test_a_choice_label_follows_the_language_and_the_stored_value_does_not():
    with translation.override("en"):
        assert str(DeviceStatus.IN_USE.label) == "In use"
    with translation.override("da"):
        assert str(DeviceStatus.IN_USE.label) == "I brug"
    assert DeviceStatus.IN_USE.value == "in_use"


# --- The pages in English ----------------------------------------------------------------------------------


def _english(client):
    client.post("/staff/sprog/", {"language": "en", "next": "/staff/"})
    return client


@pytest.mark.django_db
def test_the_it_pages_in_english_show_english_labels_statuses_and_categories(world):
    model = DeviceModelFactory()
    device = DeviceFactory(municipality=world.municipality, model=model, status=DeviceStatus.IN_STOCK)
    client = _english(web_client(world.it_staff.user))
    register = client.get("/staff/it/enheder/").content.decode()
    assert "Serial number" in register and "In stock" in register and "Search the register" in register
    assert "På lager" not in register and "Serienummer" not in register and ">Alle<" not in register
    assert model.category.name_en and model.category.name_en in register
    detail = client.get(f"/staff/it/enheder/{device.pk}/").content.decode()
    assert "Status and history" in detail and "Change status" in detail and "Status og historik" not in detail
    board = client.get("/staff/it/").content.decode()
    assert "Health board" in board and "Driftsoverblik" not in board
    catalogue = client.get("/staff/it/katalog/").content.decode()
    assert "Catalogue" in catalogue and "Kræver samtykke" not in catalogue
    # The categories table names every category in English too, as the models table and the filter do.
    assert "<td>Door sensor</td>" in catalogue and "Dørsensor" not in catalogue


@pytest.mark.django_db
def test_the_effekt_pages_in_english(world):
    lead = core.StaffFactory(municipality=world.municipality)
    core.MembershipFactory(staff=lead, team=world.team, role=StaffRole.TEAM_LEAD)
    client = _english(web_client(lead.user))
    overview = client.get("/staff/effekt/").content.decode()
    assert "The whole year" in overview and "Hele året" not in overview
    assert "Unit or team" in overview and "Enhed eller team" not in overview


@pytest.mark.django_db
def test_a_platform_problem_is_said_in_the_pages_language():
    error = InvalidInput("review_on", "must not be in the past.")
    with translation.override("da"):
        danish = problems.message(error)
    with translation.override("en"):
        english = problems.message(error)
    assert english == "Must not be in the past."
    assert danish != english and "past" not in danish
