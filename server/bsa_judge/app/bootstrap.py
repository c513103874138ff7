"""The composition root: every long-lived component, built from Settings, here and only here.

`build(settings)` returns the `Application` the entry points use. Components are built by
the small factories below; an entry point that needs something else adds a factory here and
a constructor argument to `Application`, nothing elsewhere.

The run store (`database_url`) also keeps the judge cache, behind the in-process LRU: a trace
judged through one replica is not judged again through another.
"""

from __future__ import annotations

from bsa_judge.app.application import Application
from bsa_judge.app.judges import JudgePanel
from bsa_judge.backends.endpoint import ChatEndpoint
from bsa_judge.backends.endpoint_settings import Connect, EndpointSettings
from bsa_judge.generation.backends import load_backends
from bsa_judge.generation.generator import Generator
from bsa_judge.generation.registry import ModelRegistry
from bsa_judge.generation.safety_rules import load_safety_rules
from bsa_judge.judging.builtin_templates import builtin_templates
from bsa_judge.judging.cache import JudgmentCache, LruJudgmentCache
from bsa_judge.judging.cascade import Cascade
from bsa_judge.judging.llm_judge import JudgeOptions, LlmJudge
from bsa_judge.judging.official_prompts import load_official_prompts
from bsa_judge.judging.offline_judge import OfflineTraceJudge
from bsa_judge.judging.port import Judge
from bsa_judge.judging.template import TemplateSet
from bsa_judge.runs.group_commit import GroupCommit
from bsa_judge.runs.judgment_cache import StoredJudgmentCache, TieredJudgmentCache
from bsa_judge.runs.memory import InMemoryRunStore
from bsa_judge.runs.sql import SqlRunStore
from bsa_judge.runs.store import RunStore
from bsa_judge.settings import Settings


def build(
    settings: Settings, *, connect: Connect | None = None, store: RunStore | None = None
) -> Application:
    """The application for `settings`.

    `connect` builds a chat model from endpoint settings; the default is the real
    endpoint (`connect_endpoint`). `store` is the run store; the default is the database of
    `settings.database_url` (its schema must be at head: `build_for_serving` migrates it
    first). Raises
    BackendsFileError, SafetyRulesError, TemplateError or MissingApiKeyError, naming what is
    wrong (never a key).
    """
    chat = connect or connect_endpoint
    runs = store if store is not None else build_store(settings)
    writes = GroupCommit(runs)  # one per store: samples, verdicts and cache rows batch together
    return Application(
        settings,
        judges=build_judges(settings, connect=chat, cache=build_judgment_cache(settings, writes)),
        generator=build_generator(settings, connect=chat),
        store=runs,
        writes=writes,
    )


async def build_for_serving(settings: Settings) -> Application:
    """The application `serve` runs: the run store's database migrated to the newest schema
    first (replicas starting together take turns), then `build(settings)`."""
    # Imported here: the other entry points do not pay for Alembic.
    from bsa_judge.app.database import upgrade_database

    await upgrade_database(settings.database_url)
    return build(settings)


def build_for_calibration(settings: Settings, *, connect: Connect | None = None) -> Application:
    """The application `calibrate` judges gold traces with: the judges of `settings` over a
    run store in memory, never the configured database (its judge cache included: every
    gold trace is judged afresh), since calibration stores nothing."""
    return build(settings, connect=connect, store=InMemoryRunStore())


def build_store(settings: Settings) -> RunStore:
    """The run store on `settings.database_url` (SQLite or PostgreSQL)."""
    return SqlRunStore.from_url(settings.database_url)


def build_judgment_cache(settings: Settings, writes: GroupCommit) -> JudgmentCache:
    """The judge cache: `verdict_cache_size` judgments in memory, then the run store's;
    a size of 0 turns the cache off (one that keeps nothing)."""
    memory = LruJudgmentCache(settings.verdict_cache_size)
    if settings.verdict_cache_size == 0:
        return memory
    return TieredJudgmentCache(memory, StoredJudgmentCache(writes))


def connect_endpoint(settings: EndpointSettings) -> ChatEndpoint:
    """The one factory from endpoint settings (a judge's or a model's) to an endpoint."""
    return ChatEndpoint(settings.endpoint_config())


def templates_for(settings: Settings) -> TemplateSet:
    """The judge templates: the official prompt files when configured, else ours."""
    if settings.judge_prompts is not None:
        return load_official_prompts(settings.judge_prompts)
    return builtin_templates()


def build_judges(
    settings: Settings,
    *,
    connect: Connect | None = None,
    cache: JudgmentCache | None = None,
) -> JudgePanel:
    """An LLM judge for every backend of `settings.judges`, sharing one template set and one
    judgment cache (`verdict_cache_size` judgments); the offline judge (`offline`, its model
    loaded on first use); and, when there is an LLM judge, the cascade (`cascade`) of the
    offline judge and the LLM judge `cascade_judge`.

    The default judge is `default_judge`, else the first backend, else the offline judge.
    Raises ValueError naming a `default_judge` or `cascade_judge` that is not configured.
    """
    chat = connect or connect_endpoint
    templates = templates_for(settings)
    shared = cache if cache is not None else LruJudgmentCache(settings.verdict_cache_size)
    judges = [
        LlmJudge(
            backend.name,
            chat(backend),
            templates,
            shared,
            JudgeOptions(
                temperature=backend.temperature,
                max_tokens=backend.max_tokens,
                structured_output=backend.structured_output,
                reasks=settings.judge_reasks,
            ),
        )
        for backend in settings.judges
    ]
    offline = OfflineTraceJudge()
    panel: list[Judge] = [*judges, offline]
    if judges:
        panel.append(
            Cascade(
                offline, _cascade_fallback(settings, judges), threshold=settings.cascade_threshold
            )
        )
    default = settings.default_judge or (judges[0].name if judges else offline.name)
    return JudgePanel(panel, default)


def _cascade_fallback(settings: Settings, judges: list[LlmJudge]) -> LlmJudge:
    by_name = {judge.name: judge for judge in judges}
    if settings.cascade_judge is not None:
        if settings.cascade_judge not in by_name:
            raise ValueError(
                f"cascade_judge {settings.cascade_judge!r} is not a judge backend; "
                f"configured: {', '.join(by_name)}"
            )
        return by_name[settings.cascade_judge]
    if settings.default_judge in by_name:
        return by_name[settings.default_judge]
    return judges[0]


def build_generator(settings: Settings, *, connect: Connect | None = None) -> Generator:
    """The models of the backends file (none without one) and the safety rules of the rules
    file (the built-in rules without one)."""
    backends = load_backends(settings.backends) if settings.backends is not None else {}
    return Generator(
        ModelRegistry(connect or connect_endpoint, backends),
        load_safety_rules(settings.safety_rules_file),
        max_k=settings.max_k,
        backends_file=settings.backends,
        safety_rules_file=settings.safety_rules_file,
    )
