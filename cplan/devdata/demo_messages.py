"""The demo's DLT registry: an entity, a government header, the code's own templates and two
broadcast templates in English and Hindi, with a whitelisted link and callback number.

The ids are made up (DLT ids are 19 digits); a real deployment registers its own texts with
``flask cplan dlt-sync`` and the SMS office's entries.
"""

from __future__ import annotations

from flask import current_app

from cplan.models.messages import HeaderCategory, TemplateCategory, WhitelistKind
from cplan.services import dlt

DEMO_ENTITY_ID = "1201000000000000001"
DEMO_SENDER_ID = "UPPCPL"

# (name, language, DLT template id, variable types, registered text)
DEMO_TEMPLATES = (
    (
        "rumour_alert",
        "en",
        "1207000000000000101",
        ("text", "callback"),
        "UP Police: the news about {#var#} is false. Do not share it. For the facts call "
        "{#var#}. - UP Police",
    ),
    (
        "rumour_alert",
        "hi",
        "1207000000000000102",
        ("text", "callback"),
        "यूपी पुलिस: {#var#} के बारे में फैली खबर झूठी है। इसे आगे न भेजें। सही जानकारी के लिए "
        "{#var#} पर फोन करें। - यूपी पुलिस",
    ),
    (
        "meeting_notice",
        "en",
        "1207000000000000103",
        ("text", "date", "url"),
        "UP Police: a C-Plan meeting will be held at {#var#} on {#var#}. Details: {#var#} "
        "- UP Police",
    ),
    (
        "meeting_notice",
        "hi",
        "1207000000000000104",
        ("text", "date", "url"),
        "यूपी पुलिस: {#var#} पर {#var#} को सी-प्लान बैठक होगी। विवरण: {#var#} - यूपी पुलिस",
    ),
)
DEMO_WHITELIST = (
    (WhitelistKind.URL, "https://uppolice.gov.in/"),
    (WhitelistKind.CALLBACK, "112"),
    (WhitelistKind.CALLBACK, "+911212220001"),
)


def ensure_demo_registry() -> list[str]:
    """Write the demo registry (idempotent); returns log lines."""
    config = current_app.config
    entity_id = str(config.get("SMS_DLT_ENTITY_ID") or DEMO_ENTITY_ID)
    sender_id = str(config.get("SMS_SENDER_ID") or DEMO_SENDER_ID)
    system = dlt.sync_system_templates(entity_id, sender_id, config)
    entity = dlt.ensure_entity(entity_id)
    header = dlt.ensure_header(entity, sender_id, HeaderCategory.GOVERNMENT)
    for kind, value in DEMO_WHITELIST:
        dlt.add_whitelisted(entity, kind, value)
    for name, language, template_id, types, text in DEMO_TEMPLATES:
        dlt.register_template(
            header,
            name=name,
            language=language,
            text=text,
            variable_types=types,
            category=TemplateCategory.GOVERNMENT,
            template_id=template_id,
            title=name.replace("_", " "),
        )
    return [f"DLT registry: {len(system)} system and {len(DEMO_TEMPLATES)} broadcast templates"]
