"""Mobile numbers: parsed with phonenumbers, stored in E.164, limited to allowed countries."""
from __future__ import annotations

import phonenumbers
from flask_babel import gettext as _

from ...settings.registration import PhoneSettings
from . import InvalidEntry


def normalize_number(text: str, settings: PhoneSettings) -> str:
    """The number in E.164 (+14155550123); InvalidEntry when it is not a valid number we may text."""
    if not text or len(text) > 40:
        raise InvalidEntry(_("Enter a mobile phone number, for example +1 415 555 0123."))
    try:
        number = phonenumbers.parse(text, settings.default_country)
    except phonenumbers.NumberParseException as error:
        raise InvalidEntry(_("Enter a mobile phone number, for example +1 415 555 0123.")) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidEntry(_("That is not a valid phone number. Check the country code and the digits."))
    if phonenumbers.region_code_for_number(number) not in settings.allowed_countries:
        raise InvalidEntry(_("Numbers from that country cannot be used. Allowed: %(countries)s.",
                             countries=", ".join(settings.allowed_countries)))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_number(e164: str) -> str:
    """`+1 ••• ••• 0123`: the country and the last digits, as banks show them."""
    try:
        country = phonenumbers.parse(e164, None).country_code
    except phonenumbers.NumberParseException:
        return "•••" + e164[-2:]
    return f"+{country} ••• ••• {e164[-4:]}"
