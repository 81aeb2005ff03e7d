"""JSON Schema forms (a complaint category's extra answers, a permit type's form): their refusals said for people,
and their texts in the reader's language.

jsonschema's own messages are English sentences about the schema ("'severity' is a required property", on the
object that lacks it). Here every failure becomes one error on the field it concerns (`extra.severity`,
`form.luas_bangunan`), in the active language, once per field however many rules of the schema it breaks (an
`allOf` or `if`/`then` can report one missing field several times)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

TYPE_NAMES = {
    "string": lambda: _("Must be text."),
    "number": lambda: _("Must be a number."),
    "integer": lambda: _("Must be a whole number."),
    "boolean": lambda: _("Must be yes or no."),
    "array": lambda: _("Must be a list."),
    "object": lambda: _("Must be a set of named answers."),
    "null": lambda: _("Must be empty."),
}


def _message(error) -> str:
    kind, limit = error.validator, error.validator_value
    if kind == "type":
        names = [limit] if isinstance(limit, str) else list(limit)
        return TYPE_NAMES.get(names[0], lambda: _("Not a valid value."))()
    if kind == "enum":
        return _("Choose one of: %(choices)s.") % {"choices": ", ".join(str(choice) for choice in limit)}
    if kind == "const":
        return _("Must be %(value)s.") % {"value": limit}
    if kind == "minimum":
        return _("Must be at least %(limit)s.") % {"limit": limit}
    if kind == "exclusiveMinimum":
        return _("Must be more than %(limit)s.") % {"limit": limit}
    if kind == "maximum":
        return _("Must be at most %(limit)s.") % {"limit": limit}
    if kind == "exclusiveMaximum":
        return _("Must be less than %(limit)s.") % {"limit": limit}
    if kind == "minLength":
        return ngettext("At least %(limit)d character.", "At least %(limit)d characters.", limit) % {"limit": limit}
    if kind == "maxLength":
        return ngettext("At most %(limit)d character.", "At most %(limit)d characters.", limit) % {"limit": limit}
    if kind == "minItems":
        return ngettext("Choose at least %(limit)d.", "Choose at least %(limit)d.", limit) % {"limit": limit}
    if kind == "maxItems":
        return ngettext("Choose at most %(limit)d.", "Choose at most %(limit)d.", limit) % {"limit": limit}
    if kind == "pattern":
        return _("Not in the expected form.")
    if kind == "format":
        return _("Not a valid %(format)s.") % {"format": limit}
    return _("Not a valid value.")


def form_errors(validator, data, *, prefix: str) -> list[tuple[str, str]]:
    """(field, message) for everything `data` breaks of the validator's schema: `prefix` names the whole form
    (`extra`, `form`), a field below it is joined with dots (`form.luas_bangunan`); sorted by field, one per field."""
    found: dict[str, str] = {}
    for error in validator.iter_errors(data):
        path = [prefix, *(str(part) for part in error.absolute_path)]
        if error.validator == "required":
            present = error.instance if isinstance(error.instance, dict) else {}
            for name in error.validator_value:
                if name not in present:
                    found.setdefault(".".join([*path, name]), _("This is required."))
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set((error.schema.get("properties") or {}).keys())
            for name in error.instance:
                if name not in known:
                    found.setdefault(".".join([*path, str(name)]), _("Not a question of this form."))
        else:
            found.setdefault(".".join(path), _message(error))
    return sorted(found.items())


def localized(schema, language: str):
    """The schema with its texts in `language`: a node's `title_<language>` (or `description_<language>`) replaces
    its `title` (`description`); the `title_*` keys themselves are left out. The default texts are Indonesian."""
    if isinstance(schema, list):
        return [localized(item, language) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {}
    for key, value in schema.items():
        base, _sep, lang = key.rpartition("_")
        if base in ("title", "description") and len(lang) == 2 and lang.isalpha():
            continue
        result[key] = localized(value, language)
    for text in ("title", "description"):
        wanted = schema.get(f"{text}_{language}")
        if isinstance(wanted, str) and wanted:
            result[text] = wanted
    return result


def named_answers(schema, data, language: str) -> list[tuple[str, object]]:
    """A form's answers as a person reads them: each named by its question's title in `language` (else by its key),
    in the schema's order of questions (answers it does not name after them); yes and no for booleans."""
    properties = (localized(schema, language) or {}).get("properties", {}) if isinstance(schema, dict) else {}
    data = data if isinstance(data, dict) else {}
    keys = [key for key in properties if key in data] + [key for key in data if key not in properties]
    named = []
    for key in keys:
        spec = properties.get(key) if isinstance(properties.get(key), dict) else {}
        value = data[key]
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        named.append((spec.get("title") or key, value))
    return named
