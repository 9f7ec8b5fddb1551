"""The certificate QR code: its verification URL, reading a scan back, SVG and PNG rendering."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET  # builds our SVG; parses nothing  # nosec B405
from collections.abc import Mapping
from urllib.parse import urlsplit

import qrcode
import qrcode.constants
import qrcode.image.pil
import qrcode.image.svg

from server.certificates.signing import (
    MAX_TOKEN_LENGTH,
    TOKEN_RE,
    CertificatePayload,
    InvalidCertificate,
    InvalidReason,
    PublicKeyLike,
    verify_token,
)

VERIFY_PATH_PREFIX = "/v/"
QR_WORDS = ("离校证明二维码", "Clearance certificate QR code")
# The API's SVG serves either language; a web page names it in the page's language (`label=t(QR_WORDS)`).
QR_LABEL = " / ".join(QR_WORDS)
# M restores about 15% of damaged modules: enough for a creased printout or a cracked
# phone screen while keeping a ~230-character URL at a size phones read easily.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QUIET_ZONE = 4  # modules; the QR standard's minimum margin
# A token plus a generous host and prefix; longer scans are refused before parsing.
MAX_SCAN_LENGTH = MAX_TOKEN_LENGTH + 512

# The path may sit below a prefix (a service mounted at /lixiao/), but must end in /v/<token>.
_URL_PATH_RE = re.compile(r"(?:/[^/]+)*/v/(?P<token>[^/]+)")


def verification_url(base_url: str, token: str) -> str:
    """The URL a certificate QR code holds: `{base_url}/v/{token}`."""
    if urlsplit(base_url).scheme not in ("http", "https"):
        raise ValueError("base_url must be an http(s) URL")
    if not TOKEN_RE.fullmatch(token):
        raise ValueError("not a certificate token")
    return f"{base_url.rstrip('/')}{VERIFY_PATH_PREFIX}{token}"


def token_from_scanned_text(text: str) -> str | None:
    """The token from a scan (a verification URL on any host, or a bare token), else None."""
    if not isinstance(text, str):
        return None
    # USB scanners type a trailing Enter; phones sometimes keep surrounding spaces.
    text = text.strip()
    if not text or len(text) > MAX_SCAN_LENGTH:
        return None
    if TOKEN_RE.fullmatch(text):
        return text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    # Any host is accepted on purpose: the signature, not the address, makes a
    # certificate genuine, and a look-alike host cannot produce a valid signature.
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    match = _URL_PATH_RE.fullmatch(parts.path)
    if match is None or not TOKEN_RE.fullmatch(match["token"]):
        return None
    return match["token"]


def verify_scanned_text(text: str, public_keys: Mapping[str, PublicKeyLike]) -> CertificatePayload:
    """Verify whatever the counter scanned; raises InvalidCertificate for anything not genuine."""
    token = token_from_scanned_text(text)
    if token is None:
        raise InvalidCertificate(InvalidReason.MALFORMED)
    return verify_token(token, public_keys)


def _build(data: str, box_size: int, image_factory: type) -> qrcode.QRCode:
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECTION,
        box_size=box_size,
        border=QUIET_ZONE,
        image_factory=image_factory,
    )
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_svg(data: str, *, label: str = QR_LABEL) -> str:
    """An inline-ready `<svg>` element (no XML prolog, no fixed size, no id) encoding data."""
    # The white background keeps the quiet zone visible on tinted or dark pages.
    image = _build(data, 10, qrcode.image.svg.SvgPathFillImage).make_image()
    svg = image.get_image()
    # Without width/height the page's CSS sizes it; the viewBox keeps it square.
    for attribute in ("width", "height"):
        svg.attrib.pop(attribute, None)
    svg.set("role", "img")
    svg.set("aria-label", label)
    svg.set("shape-rendering", "crispEdges")
    for path in svg.iter("path"):
        # A fixed id would repeat when a page shows more than one code.
        path.attrib.pop("id", None)
    return ET.tostring(svg, encoding="unicode")


def qr_png(data: str, *, box_size: int = 8) -> bytes:
    """PNG bytes (black on white, 4-module quiet zone) encoding data."""
    image = _build(data, box_size, qrcode.image.pil.PilImage).make_image()
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
