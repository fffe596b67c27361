import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.validators import normalize_phone, validate_nuban
from tests.factories import make_user


@pytest.mark.parametrize(
    "written",
    [
        "08123456789",
        "+2348123456789",
        "234 812 345 6789",
        "2348123456789",
        "0812-345-6789",
        "(0812) 345 6789",
        "+234 0812 345 6789",
    ],
)
def test_phone_forms_are_one_number(written):
    assert normalize_phone(written) == "+2348123456789"


@pytest.mark.parametrize(
    "written",
    [
        "",
        "8123456789",
        "0812345678",
        "081234567890",
        "+4478123456789",
        "06123456789",
        "0812345678a",
        "phone",
    ],
)
def test_phone_refusal_says_what_is_expected(written):
    with pytest.raises(ValidationError) as caught:
        normalize_phone(written)
    message = caught.value.messages[0]
    assert "is not a phone number we can use" in message
    assert "08123456789, +2348123456789 or 234 812 345 6789" in message


@pytest.mark.django_db
def test_phone_is_stored_in_e164():
    user = make_user(phone="234 812 345 6789")
    user.refresh_from_db()
    assert user.phone == "+2348123456789"


@pytest.mark.django_db
def test_blank_phone_is_null_so_staff_without_phones_do_not_collide():
    first = make_user(phone="")
    second = make_user(phone="")
    assert User.objects.filter(pk__in=[first.pk, second.pk], phone=None).count() == 2


@pytest.mark.django_db
def test_same_number_written_two_ways_is_a_duplicate():
    make_user(phone="08123456789")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_user(phone="+234 812 345 6789")


@pytest.mark.django_db
def test_full_clean_names_the_duplicate_phone():
    make_user(phone="08123456789")
    user = User(username="dup", phone="+2348123456789")
    with pytest.raises(ValidationError) as caught:
        user.full_clean(exclude=["password"])
    assert "phone" in caught.value.message_dict


@pytest.mark.parametrize("number", ["0123456789", "9999999999"])
def test_ten_digit_account_number_is_accepted(number):
    validate_nuban(number)


@pytest.mark.parametrize(
    "number", ["", "123456789", "12345678901", "01234 6789", "abcdefghij"]
)
def test_other_account_numbers_are_refused(number):
    with pytest.raises(ValidationError) as caught:
        validate_nuban(number)
    assert "10-digit NUBAN" in caught.value.messages[0]


@pytest.mark.django_db
def test_user_full_clean_refuses_bad_account_number():
    user = User(username="x", phone="08123456789", account_number="12345")
    with pytest.raises(ValidationError) as caught:
        user.full_clean(exclude=["password"])
    assert list(caught.value.message_dict) == ["account_number"]
