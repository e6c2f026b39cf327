"""Mobile numbers: parsed with phonenumbers, stored in E.164, limited to allowed countries and to
numbers that are mobile (or cannot be told apart from mobile)."""
from __future__ import annotations

import phonenumbers
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ....adapters.directory.model import DirectoryUser
from ....settings.registration import PhoneSettings
from .base import Channel, InvalidEntry, Member, Proves, Registers

KEY = "phone"

# FIXED_LINE_OR_MOBILE: countries whose numbering cannot tell the two apart (the US and Canada,
# among others) are accepted; refusing them would refuse every mobile there. The code sent to the
# number proves it can receive texts.
TEXTABLE = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


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
    _refuse_unless_mobile(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _refuse_unless_mobile(number: phonenumbers.PhoneNumber) -> None:
    """Only mobile numbers get codes. A premium-rate or shared-cost number would make every code
    cost money (or earn someone money); a landline, toll-free, VoIP, pager or personal number
    cannot be relied on to receive a text, or is not tied to one phone."""
    kind = phonenumbers.number_type(number)
    if kind in TEXTABLE:
        return
    if kind == phonenumbers.PhoneNumberType.FIXED_LINE:
        raise InvalidEntry(_("That is a landline number. Enter a mobile number that can receive text messages."))
    raise InvalidEntry(_("Codes cannot be texted to that kind of number (premium-rate, shared-cost, toll-free, "
                         "internet or pager numbers). Enter a mobile number."))


def mask_number(e164: str) -> str:
    """`+1 ••• ••• 0123`: the country and the last digits, as banks show them."""
    try:
        country = phonenumbers.parse(e164, None).country_code
    except phonenumbers.NumberParseException:
        return "•••" + e164[-2:]
    return f"+{country} ••• ••• {e164[-4:]}"



class MobilePhone(Member):
    """A mobile number, proven by a code texted there; the directory may hold one too."""

    def masked(self, value: str) -> str:
        return mask_number(value)

    def normalize(self, text: str, phone: PhoneSettings) -> str:
        return normalize_number(text, phone)

    def directory_value(self, user: DirectoryUser) -> str | None:
        return user.mobile


METHOD = MobilePhone(key=KEY, registers=Registers.DESTINATION, proves=Proves.SENT_CODE, channel=Channel.SMS,
                     allowed_for_admins=True, title=_l("Mobile phone"), in_sentence=_l("mobile phone"))
