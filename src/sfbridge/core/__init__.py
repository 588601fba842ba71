"""Pure logic for sfbridge: no I/O, no framework, no clock unless one is passed in.

Import the modules and call through them (``from sfbridge.core import subjects`` then
``subjects.normalize_subject(...)``). The inbound-mail pipeline is a chain of these
functions, each taking and returning frozen values::

    mailparse.parse_message  ->  loops.classify_automated  ->  threading.thread_keys
    (service looks the keys up)  ->  threading.choose_thread  ->  quotes.strip_quoted
    ->  handoff.wants_handoff / office_hours.schedule_handoff
    ->  summary.topic + summary.extractive_summary + transcript.chunk_transcript

Modules: ``mailparse`` (MIME to :class:`~sfbridge.core.mailparse.ParsedEmail`), ``quotes``
(reply text without history or signature), ``subjects`` (prefix-free subjects), ``tokens``
(signed thread tokens), ``threading`` (which session a mail belongs to), ``loops``
(auto-replies, bounces, bulk, loops, floods), ``handoff`` (does the contact want a human),
``office_hours`` (open or closed, next opening), ``transcript`` (lines and CaseComment
chunks), ``summary`` (topic and extractive summary), ``apex`` (the Salesforce setup code we
generate), ``phones`` (E.164), ``errors`` (:class:`~sfbridge.core.errors.CoreError`).
"""
