"""CPR numbers: parsing, encryption at rest with key rotation, keyed lookup hash, and hidden digits."""

import hashlib
import logging
from datetime import date

import pytest
from cryptography.fernet import Fernet

from backend import cpr
from backend.cpr import CprNumber, InvalidCpr
from backend.models import AccessLogEntry, Citizen

NUMBER = "0703851234"


@pytest.mark.parametrize("raw", ["070385-1234", "0703851234", " 070385-1234 ", "0703851234\n"])
def test_parse_accepts_ten_digits_with_or_without_the_dash(raw):
    assert CprNumber.parse(raw).digits == NUMBER


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "070385123",
        "07038512345",
        "070385--1234",
        "0703-851234",
        "07038a1234",
        "070385 1234",
        "٠٧٠٣٨٥١٢٣٤",
        "0703851234\n0101901234",
        "+070385-1234",
    ],
)
def test_parse_rejects_wrong_lengths_and_characters(raw):
    with pytest.raises(InvalidCpr, match="ten digits"):
        CprNumber.parse(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "000185-1234",  # day 0
        "320185-1234",  # day 32
        "310485-1234",  # 31 April
        "300285-1234",  # 30 February
        "070085-1234",  # month 0
        "071385-1234",  # month 13
        "290201-1234",  # 29 February 1901 was no leap day
        "290289-4234",  # nor in 1989 (7th digit 4, year 89)
    ],
)
def test_parse_rejects_dates_that_do_not_exist(raw):
    with pytest.raises(InvalidCpr, match="date"):
        CprNumber.parse(raw)


@pytest.mark.parametrize(
    ("raw", "born"),
    [
        ("290200-4234", date(2000, 2, 29)),
        ("290296-1234", date(1996, 2, 29)),
        ("010190-3234", date(1990, 1, 1)),
        ("010136-4234", date(2036, 1, 1)),
        ("010137-4234", date(1937, 1, 1)),
        ("010110-9234", date(2010, 1, 1)),
        ("010157-5234", date(2057, 1, 1)),
        ("010158-5234", date(1858, 1, 1)),
        ("311299-8234", date(1899, 12, 31)),
    ],
)
def test_birth_date_follows_the_century_rules(raw, born):
    assert CprNumber.parse(raw).birth_date() == born


def test_parse_raises_a_value_error_for_forms_to_catch():
    with pytest.raises(ValueError):
        CprNumber.parse("not a number")


def test_repr_str_and_formatting_hide_the_digits(caplog):
    number = CprNumber.parse(NUMBER)
    texts = [repr(number), str(number), f"{number}", f"{number!r}", str([number]), str({"cpr": number})]
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("looked up %s", number)
    texts.append(caplog.text)
    for text in texts:
        assert NUMBER not in text
        assert "070385" not in text
        assert "1234" not in text
    assert "**********" in repr(number)


def test_encrypt_and_decrypt_round_trip():
    number = CprNumber.parse(NUMBER)
    ciphertext = cpr.encrypt(number)
    assert NUMBER not in ciphertext
    assert cpr.decrypt(ciphertext) == number
    assert cpr.encrypt(number) != ciphertext  # randomised: lookups go through the keyed hash


def test_decrypting_garbage_or_a_foreign_ciphertext_raises_invalid_cpr():
    foreign = Fernet(Fernet.generate_key()).encrypt(NUMBER.encode()).decode()
    for ciphertext in ("garbage", "", foreign):
        with pytest.raises(InvalidCpr):
            cpr.decrypt(ciphertext)


def test_keyed_hash_is_stable_and_hides_the_number():
    number = CprNumber.parse(NUMBER)
    first = cpr.keyed_hash(number)
    assert first == cpr.keyed_hash(CprNumber.parse("070385-1234"))
    assert len(first) == 64
    assert first != hashlib.sha256(NUMBER.encode()).hexdigest()
    assert first != cpr.keyed_hash(CprNumber.parse("0703851235"))


def test_keyed_hash_depends_on_the_key(settings):
    number = CprNumber.parse(NUMBER)
    before = cpr.keyed_hash(number)
    settings.CPR_HASH_KEY = "another-municipality-hash-key-0123456789"
    after = cpr.keyed_hash(number)
    assert after != before
    assert after == cpr.keyed_hash(number)


def test_key_rotation_new_key_first_and_old_key_still_decrypts(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    number = CprNumber.parse(NUMBER)
    settings.CPR_ENCRYPTION_KEYS = [old_key]
    stored_under_old = cpr.encrypt(number)

    settings.CPR_ENCRYPTION_KEYS = [new_key, old_key]
    assert cpr.decrypt(stored_under_old) == number
    stored_under_new = cpr.encrypt(number)
    rotated = cpr.reencrypt(stored_under_old)

    settings.CPR_ENCRYPTION_KEYS = [new_key]
    assert cpr.decrypt(stored_under_new) == number
    assert cpr.decrypt(rotated) == number
    with pytest.raises(InvalidCpr):
        cpr.decrypt(stored_under_old)

    settings.CPR_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(InvalidCpr):
        cpr.decrypt(stored_under_new)


@pytest.mark.django_db
@pytest.mark.parametrize("form", ["{digits}", "{digits:.6}-{last}"])
def test_staff_find_a_citizen_in_their_care_by_cpr_in_either_form(world, form):
    digits = cpr.decrypt(world.citizen.cpr_ciphertext).digits
    response = world.client("staff_in_team").post(
        "/api/v1/citizens/lookup", {"cpr": form.format(digits=digits, last=digits[6:])}
    )
    assert response.status_code == 200, response.content
    assert response.json()["id"] == str(world.citizen.id)
    assert digits not in response.content.decode()


@pytest.mark.django_db
def test_lookup_with_an_impossible_date_is_422_naming_cpr(world):
    response = world.client("staff_in_team").post("/api/v1/citizens/lookup", {"cpr": "310299-1234"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "cpr", "message": "De første seks cifre i et CPR-nummer er en dato."}
    ]
    assert not AccessLogEntry.objects.exists()


@pytest.mark.django_db
def test_citizens_are_stored_with_ciphertext_and_hash_only(world):
    citizen = Citizen.objects.get(pk=world.citizen.pk)
    digits = cpr.decrypt(citizen.cpr_ciphertext).digits
    stored = {field.name: str(getattr(citizen, field.attname)) for field in Citizen._meta.concrete_fields}
    assert not any(digits in value for value in stored.values())
    assert citizen.cpr_hash == cpr.keyed_hash(CprNumber.parse(digits))
