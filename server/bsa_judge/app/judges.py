"""The configured judges by name, and which judge a request gets."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from bsa_judge.errors import FailedPrecondition, NotFound, quoted_list
from bsa_judge.judging.port import DescribedJudge, Judge
from bsa_judge.judging.vote import MajorityVote


@dataclass(frozen=True, slots=True)
class JudgeIdentity:
    """Which judge, judge model and template versions a run's verdicts come from."""

    name: str
    model: str
    template_versions: tuple[tuple[str, str], ...]


class JudgePanel:
    """The configured judges, by name; the default is `default` or the first configured."""

    def __init__(self, judges: Sequence[Judge] = (), default: str | None = None) -> None:
        self._judges: dict[str, Judge] = {}
        for judge in judges:
            if judge.name in self._judges:
                raise ValueError(f"judge {judge.name!r} is configured twice")
            self._judges[judge.name] = judge
        if default is not None and default not in self._judges:
            raise ValueError(
                f"default judge {default!r} is not configured; configured: {self._names()}"
            )
        self.default = default or next(iter(self._judges), None)

    def ensure_configured(self) -> None:
        """Raise FailedPrecondition when no judge is configured."""
        if not self._judges:
            raise FailedPrecondition(
                "no judge is configured: add a judge backend to the `judges` setting "
                "(config file, or BSA_JUDGE_JUDGES)"
            )

    def choose(self, judge: str = "", judges: Sequence[str] = ()) -> Judge:
        """The judge a request names: a majority vote of `judges` when it names several,
        else the one judge it names (`judges` or `judge`), else the default.

        Raises FailedPrecondition when no judge is configured, NotFound for an unknown name.
        """
        self.ensure_configured()
        names = list(dict.fromkeys(judges)) or [judge or self.default or ""]
        unknown = [name for name in names if name not in self._judges]
        if unknown:
            raise NotFound(
                f"unknown judge {quoted_list(unknown)}; configured judges: {self._names()}"
            )
        if len(names) == 1:
            return self._judges[names[0]]
        return MajorityVote([self._judges[name] for name in names])

    def identity(self, judge: str = "") -> JudgeIdentity:
        """The configured judge `judge` (the default when empty) as a run records it.

        Raises FailedPrecondition when no judge is configured, NotFound for an unknown name.
        """
        chosen = self.choose(judge)
        if isinstance(chosen, DescribedJudge):
            return JudgeIdentity(chosen.name, chosen.model, chosen.template_versions)
        return JudgeIdentity(chosen.name, "", ())

    async def aclose(self) -> None:
        """Close every judge."""
        await asyncio.gather(*(judge.aclose() for judge in self._judges.values()))

    def _names(self) -> str:
        return ", ".join(self._judges) or "(none)"
