"""WeChat subscribe-message keyword values: what the platform accepts, and how to make any value fit."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class SubscribeValueError(ValueError):
    """A value cannot be shown as the requested keyword type at all (a missing time, a bad amount)."""


# ---------------------------------------------------------------- validation (what WeChat accepts)

_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_ASCII_SYMBOLS = r"!-/:-@\[-`{-~"
_THING_RE = re.compile(
    rf"[{_HAN}\u0020-\u007e\u00a1-\u00ac\u00ae-\u00ff\u2010-\u2027\u3000-\u303f\uff01-\uff5e\uffe0-\uffe6]{{1,20}}"
)
_NAME_LATIN_RE = re.compile(r"[A-Za-z \u00b7.'\-]{1,20}")
_NAME_HAN_RE = re.compile(rf"[{_HAN}A-Za-z \u00b7.'\-]{{1,10}}")
_PATTERNS = {
    "phrase": re.compile(rf"[{_HAN}]{{1,5}}"),
    "character_string": re.compile(rf"[0-9A-Za-z{_ASCII_SYMBOLS}]{{1,32}}"),
    "number": re.compile(r"[0-9]+(\.[0-9]+)?"),
    "letter": re.compile(r"[A-Za-z]{1,32}"),
    "symbol": re.compile(rf"[{_ASCII_SYMBOLS}]{{1,5}}"),
    "phone_number": re.compile(rf"[0-9{_ASCII_SYMBOLS}]{{1,17}}"),
    "amount": re.compile(r"[¥￥$€£]?([0-9]+)(?:\.([0-9]{1,2}))?元?"),
}
_CAR_RE = re.compile(rf"[{_HAN}A-Z0-9]?[A-Z0-9]{{0,6}}[{_HAN}A-Z0-9]?")
# Documented shapes only: `15:01`, `2019年10月1日 15:01`, and (time only) `2019-10-01 15:01`.
# Month and day are unpadded because a padded `2020年03月19日` was reported rejected (reference §2.4).
_CLOCK = r"(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})"
_CN_DATE = r"(?P<y>[0-9]{4})年(?P<mo>[1-9]|1[0-2])月(?P<d>[1-9]|[12][0-9]|3[01])日"
_DATE_SHAPES = (re.compile(_CN_DATE), re.compile(rf"{_CN_DATE} {_CLOCK}"))
_TIME_SHAPES = (
    re.compile(_CLOCK),
    re.compile(rf"{_CN_DATE} {_CLOCK}"),
    re.compile(rf"(?P<y>[0-9]{{4}})-(?P<mo>[0-9]{{2}})-(?P<d>[0-9]{{2}}) {_CLOCK}"),
)
SUBSCRIBE_TYPES = frozenset({"thing", "name", "time", "date", "car_number", *_PATTERNS})


def validate_subscribe_value(type_: str, value: str) -> str | None:
    """Why WeChat would reject `value` for a keyword of `type_` (errcode 47003), or None if it is fine."""
    if type_ not in SUBSCRIBE_TYPES:
        return f"unknown keyword type {type_!r}"
    if not isinstance(value, str):
        return f"not a string: {type(value).__name__}"
    if not value.strip():
        return "empty value"
    if type_ == "thing":
        if len(value) > 20:
            return f"thing longer than 20 characters ({len(value)})"
        return None if _THING_RE.fullmatch(value) else "thing holds characters outside Chinese/letters/digits/symbols"
    if type_ == "name":
        has_han = re.search(f"[{_HAN}]", value) is not None
        if re.search(f"[{_HAN}A-Za-z]", value) is None:
            return "name holds no letter or Chinese character"
        pattern, limit = (_NAME_HAN_RE, "10 characters") if has_han else (_NAME_LATIN_RE, "20 letters")
        return None if pattern.fullmatch(value) else f"name not within {limit} of allowed characters"
    if type_ in ("time", "date"):
        parts = value.split("~")
        if len(parts) > 2:
            return f"{type_} range has more than two ends"
        shapes = _TIME_SHAPES if type_ == "time" else _DATE_SHAPES
        for part in parts:
            reason = _check_moment(part, shapes)
            if reason:
                return f"{type_} {reason}"
        return None
    if type_ == "car_number":
        return None if len(value) <= 8 and _CAR_RE.fullmatch(value) else "car_number not a plate of ≤8 characters"
    match = _PATTERNS[type_].fullmatch(value)
    if match is None:
        return f"{type_} has characters or a length the type does not allow"
    if type_ == "phone_number" and not re.search("[0-9]", value):
        return "phone_number holds no digit"
    if type_ == "number" and sum(c.isdigit() for c in value) > 32:
        return "number longer than 32 digits"
    if type_ == "amount" and len(match.group(1)) + len(match.group(2) or "") > 10:
        return "amount longer than 10 digits"
    return None


def _check_moment(text: str, shapes: tuple[re.Pattern[str], ...]) -> str | None:
    """Why `text` is not one allowed date/time shape naming a real moment, or None."""
    for shape in shapes:
        m = shape.fullmatch(text)
        if m is None:
            continue
        fields = m.groupdict()
        if "h" in fields and not (int(fields["h"]) < 24 and int(fields["mi"]) < 60):
            return "has an impossible clock time"
        if "y" in fields:
            try:
                date(int(fields["y"]), int(fields["mo"]), int(fields["d"]))
            except ValueError:
                return "names a day that does not exist"
        return None
    return f"not in an allowed format: {text!r}"


# ---------------------------------------------------------------- sanitisers (always produce accepted values)


def _is_han(c: str) -> bool:
    return 0x3400 <= ord(c) <= 0x4DBF or 0x4E00 <= ord(c) <= 0x9FFF


def _is_ascii_symbol(c: str) -> bool:
    return 0x21 <= ord(c) <= 0x7E and not c.isalnum()


def _is_thing_char(c: str) -> bool:
    cp = ord(c)
    return (
        _is_han(c)
        or 0x20 <= cp <= 0x7E
        or 0xA1 <= cp <= 0xFF
        or 0x2010 <= cp <= 0x2027
        or 0x3000 <= cp <= 0x303F
        or 0xFF01 <= cp <= 0xFF5E
        or 0xFFE0 <= cp <= 0xFFE6
    )


def plain_text(value: object) -> str:
    """Text of `value` with control/format characters dropped and whitespace collapsed to single spaces."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return " ".join("".join(c for c in text if not unicodedata.category(c).startswith("C")).split())


def _keep(value: object, allowed: Callable[[str], bool]) -> str:
    """Allowed characters of `value`; others are folded (full-width Ａ → A, é → e) or dropped."""
    kept = []
    for c in plain_text(value):
        if allowed(c):
            kept.append(c)
        else:
            folded = unicodedata.normalize("NFKD", c)
            kept.extend(d for d in folded if allowed(d) and unicodedata.category(d) != "Mn")
    return " ".join("".join(kept).split())


def _thing(value: object) -> str:
    text = _keep(value, _is_thing_char) or "无"
    return text if len(text) <= 20 else text[:19].rstrip() + "…"


# Status words sent as `phrase` map to fixed Chinese words of at most five characters.
PHRASES = MappingProxyType(
    {
        "passed": "已通过",
        "not_passed": "未通过",
        "unavailable": "暂无法核验",
        "submitted": "已提交",
        "issued": "已签发",
        "revoked": "已撤销",
        "valid": "有效",
        "closing": "即将截止",
        "closed": "已截止",
    }
)


def _phrase(value: object) -> str:
    text = plain_text(value)
    return PHRASES.get(text.lower()) or "".join(c for c in text if _is_han(c))[:5] or "无"


def _name(value: object) -> str:
    text = _keep(value, lambda c: _is_han(c) or (c.isascii() and c.isalpha()) or c in " \u00b7.'-")
    text = text[: 10 if any(_is_han(c) for c in text) else 20].strip(" ·.'-")
    # A name made only of symbols is not a name; greet the student instead.
    return text if any(_is_han(c) or c.isalpha() for c in text) else "同学"


def _character_string(value: object) -> str:
    return _keep(value, lambda c: c.isascii() and (c.isalnum() or _is_ascii_symbol(c)))[:32] or "N/A"


def _number(value: object) -> str:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if not (number := Decimal(str(value))).is_finite() or number < 0:
            raise SubscribeValueError(f"number must be finite and not negative: {value!r}")
        value = f"{number:f}"  # avoids exponent notation such as 1E+5
    text = plain_text(value).replace(",", "").replace(" ", "")
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        text = "".join(c for c in text if c.isascii() and c.isdigit())
    whole, _, frac = text.partition(".")
    whole = whole[:32]
    frac = frac[: 32 - len(whole)]
    return (f"{whole}.{frac}" if frac else whole) or "0"


def _letter(value: object) -> str:
    return _keep(value, lambda c: c.isascii() and c.isalpha())[:32] or "NA"


def _symbol(value: object) -> str:
    return "".join(c for c in plain_text(value) if _is_ascii_symbol(c))[:5] or "-"


def _phone_number(value: object) -> str:
    text = _keep(value, lambda c: c.isascii() and (c.isdigit() or _is_ascii_symbol(c)))[:17]
    return text if any(c.isdigit() for c in text) else "0"


def _car_number(value: object) -> str:
    chars = [c.upper() for c in _keep(value, lambda c: _is_han(c) or (c.isascii() and c.isalnum()))]
    # Chinese characters are allowed only as the first and last character of a plate.
    kept = [c for i, c in enumerate(chars) if not _is_han(c) or i in (0, len(chars) - 1)]
    # Cutting a longer plate drops its last character, so any Chinese left is the first one.
    return "".join(kept[:8]) or "无"


def _amount(value: object) -> str:
    text = plain_text(value).strip("¥￥$€£元 ").replace(",", "")
    try:
        amount = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise SubscribeValueError(f"not an amount: {value!r}") from exc
    # Money is never silently altered: out-of-range amounts are an error, not a truncation.
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e8"):
        raise SubscribeValueError(f"amount out of range: {value!r}")
    return f"¥{abs(amount)}"


def format_time(value: object) -> str:
    """A moment as `2027年6月20日 14:30`, Asia/Shanghai time."""
    moment = to_shanghai(value)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def format_date(value: object) -> str:
    """A moment's Asia/Shanghai day as `2027年6月20日`."""
    moment = to_shanghai(value)
    return f"{moment.year}年{moment.month}月{moment.day}日"


SANITISERS: Mapping[str, Callable[[object], str]] = MappingProxyType(
    {
        "thing": _thing,
        "phrase": _phrase,
        "name": _name,
        "character_string": _character_string,
        "number": _number,
        "letter": _letter,
        "symbol": _symbol,
        "phone_number": _phone_number,
        "car_number": _car_number,
        "amount": _amount,
        "time": format_time,
        "date": format_date,
    }
)


def sanitise_subscribe_value(type_: str, value: object) -> str:
    """`value` made acceptable for a keyword of `type_`, truncated or cleaned by that type's rule."""
    return SANITISERS[type_](value)


def to_shanghai(value: object) -> datetime:
    """A datetime or ISO 8601 string as Asia/Shanghai time; naive values are UTC, as stored."""
    moment = value
    if isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise SubscribeValueError(f"not an ISO 8601 time: {value!r}") from exc
    if not isinstance(moment, datetime):
        raise SubscribeValueError(f"a time is required, got {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI)
