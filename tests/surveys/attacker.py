"""An attacker who reads the whole database, and the judge of how well it does (issue 19).

The attacker holds every row of every table but does not read what the answers say. Each
attack turns what it reads into guesses (member id -> the response it says is theirs):

1. timestamps: every date and time column of every row that names a respondent, against
   every one of every row that came from a response; nearest in time, and equal rank in
   time;
2. id order: rows naming respondents ranked by id, paired by rank with response rows
   ranked by id;
3. per-window counts: both sides counted per tenth of a second, second, minute and hour,
   the count profiles lined up where they agree best, and each window's members paired
   with that window's responses;
4. on-disk order (PostgreSQL): both sides ranked by ctid and paired by rank;
5. transactions (PostgreSQL): rows on both sides written, locked or deleted by the same
   transaction (xmin, xmax), and both sides ranked by the writing transaction's id.

The judge (`attack_judge`) is a permutation test. An attack scores the number of members
its best guess links to their own response. Its score is then compared with the scores it
gets when, within each anonymity set (each batch the pool released), the responses are
handed to the set's members at random: an attack that does better than (almost) all of
those links answers to members beyond what the batch gives away.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from statistics import mean
from typing import Any

from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import models
from django.db.models.expressions import RawSQL
from django.utils import timezone

from communities.models import Member, User
from communities.outbox.models import OutboundEmail
from rewards.models import LedgerEntry
from surveys.models import Answer, Participation, Response, Survey

# The five attacks above. A test that holds all of them wrongly fails once in FALSE_ALARM
# runs when the anonymity does hold, so each is held to an equal share of it (Bonferroni).
ATTACK_KINDS = 5
FALSE_ALARM = 0.001
SIGNIFICANCE = FALSE_ALARM / ATTACK_KINDS
# Enough shuffled truths that a p-value below SIGNIFICANCE can be observed at all.
PERMUTATIONS = 10_000

# A member's id, and the id of the response the attacker (or the truth) says is theirs.
Guess = dict[int, int]


# --- the judge ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """How one attack did against the truth, and against the truths chance would deal."""

    attack: str
    observed: int  # members linked to their own response by the attack's best guess
    best_guess: str
    chance: list[int] = field(repr=False)  # the same, against each shuffled truth

    @property
    def p_value(self) -> float:
        """One-sided: the share of shuffled truths the attack does at least as well on,
        counting the real one among them (so never 0)."""
        as_good = sum(score >= self.observed for score in self.chance)
        return (1 + as_good) / (1 + len(self.chance))

    @property
    def beats_chance(self) -> bool:
        return self.p_value < SIGNIFICANCE

    def __str__(self) -> str:
        top = sorted(self.chance)[int(len(self.chance) * (1 - SIGNIFICANCE)) - 1]
        return (
            f"{self.attack}: {self.observed} right (best guess: {self.best_guess}); by chance "
            f"{mean(self.chance):.2f} on average, {top} at the {1 - SIGNIFICANCE:.2%} point; "
            f"p = {self.p_value:.4f}"
        )


def attack_judge(
    *,
    attack: str,
    guesses: dict[str, Guess],
    truth: Guess,
    anonymity_sets: list[list[int]],
    permutations: int = PERMUTATIONS,
) -> Verdict:
    """Score an attack, and the same attack against `permutations` shuffled truths.

    The attack's score is the number of members its best guess links to their own
    response: the attacker may try many guesses (column pairs, orders, window widths) and
    keep the best one in hindsight. Against a shuffled truth it again keeps its best, so
    trying many guesses earns nothing by itself (the max statistic).

    A shuffled truth hands each anonymity set's responses to that set's members at random:
    what an attacker who knows only the batch of each answer would face.
    """
    members = [member for group in anonymity_sets for member in group]
    assert sorted(members) == sorted(truth), "every member answers in exactly one set"
    # The only links a shuffled truth can confirm pair a member with a response of their
    # own set. Each such link is one bit; a guess is the bits of its links, a truth the
    # bits of the links it holds, and the guess gets right the bits both have.
    link = {
        (member, truth[other]): 1 << n
        for n, (member, other) in enumerate(
            (member, other) for group in anonymity_sets for member in group for other in group
        )
    }
    tried: dict[int, str] = {}
    for label, guess in sorted(guesses.items()):
        tried.setdefault(sum(link.get(pair, 0) for pair in guess.items()), label)
    real = sum(link[member, truth[member]] for member in members)
    observed, best_guess = max(
        (((real & links).bit_count(), label) for links, label in tried.items()),
        default=(0, "none"),
    )
    deal = random.Random(f"shuffled truths for {attack}")
    chance = []
    for _ in range(permutations):
        dealt = 0
        for group in anonymity_sets:
            responses = [truth[member] for member in group]
            deal.shuffle(responses)
            for pair in zip(group, responses, strict=True):
                dealt |= link[pair]
        chance.append(max(map(int.bit_count, map(dealt.__and__, tried)), default=0))
    return Verdict(attack=attack, observed=observed, best_guess=best_guess, chance=chance)


# --- what the attacker reads: every row that names a member or comes from a response ----


@dataclass(frozen=True)
class Rows:
    """Rows of one table the attacker can tie to a member (or to a response): `owner` is
    the column holding that id, `to_id` turns its value into the member's (response's) id."""

    label: str
    queryset: models.QuerySet
    owner: str
    to_id: Callable[[Any], int | None] = lambda value: value

    @property
    def table(self) -> str:
        return self.queryset.model._meta.db_table

    def owners(self, *order: Any) -> list[int]:
        """The owners' ids in the rows' `order` (columns or SQL expressions), each once,
        where it first appears."""
        ordered = self.queryset.order_by(*order, "pk").values_list(self.owner, flat=True)
        return list(dict.fromkeys(i for i in map(self.to_id, ordered) if i is not None))

    def system_column(self, column: str) -> RawSQL:
        """A PostgreSQL system column of the table; xmin and xmax as numbers."""
        sql = f'"{self.table}".{column}'
        return RawSQL(sql if column == "ctid" else f"{sql}::text::bigint", ())

    def times(self) -> dict[str, dict[int, list[float]]]:
        """Every date and time column: owner id -> its values, as epoch seconds."""
        found = {}
        for column in self.queryset.model._meta.concrete_fields:
            if not isinstance(column, models.DateField | models.DateTimeField):
                continue
            values = defaultdict(list)
            for owner, value in self.queryset.values_list(self.owner, column.attname):
                if value is not None and (i := self.to_id(owner)) is not None:
                    values[i].append(_seconds(value))
            if values:
                found[f"{self.label}.{column.attname}"] = dict(values)
        return found

    def transactions(self) -> dict[int, set[int]]:
        """Owner id -> the ids of the transactions that wrote (xmin) or last locked or
        deleted (xmax) its rows."""
        xids = defaultdict(set)
        rows = self.queryset.annotate(
            _xmin=self.system_column("xmin"), _xmax=self.system_column("xmax")
        ).values_list(self.owner, "_xmin", "_xmax")
        for owner, xmin, xmax in rows:
            if (i := self.to_id(owner)) is not None:
                xids[i] |= {xmin} | ({xmax} if xmax else set())
        return dict(xids)


def _seconds(value: date | datetime) -> float:
    if not isinstance(value, datetime):
        value = timezone.make_aware(datetime.combine(value, time.min))
    return value.timestamp()


def _foreign_keys_to(model: type[models.Model]) -> Iterable[tuple[type[models.Model], Any]]:
    for other in apps.get_models(include_auto_created=True):
        for column in other._meta.concrete_fields:
            if column.is_relation and column.related_model is model:
                yield other, column


def member_rows(survey: Survey) -> list[Rows]:
    """Every table that names one of the survey's respondents: their Member and User rows,
    every table with a foreign key to either (also narrowed to this survey where a table can
    say so: a survey column, the ledger's source), their sessions and emails to them."""
    members = list(Participation.objects.filter(survey=survey).values_list("member_id", flat=True))
    member_of = dict(Member.objects.filter(pk__in=members).values_list("user_id", "pk"))
    member_at = dict(Member.objects.filter(pk__in=members).values_list("email", "pk"))

    def signed_in(session_data: str) -> int | None:
        user = SessionStore().decode(session_data).get("_auth_user_id")
        return member_of.get(int(user)) if user else None

    found = [
        Rows("member", Member._base_manager.filter(pk__in=members), "pk"),
        Rows("user", User._base_manager.filter(pk__in=list(member_of)), "pk", member_of.get),
        Rows("session", Session.objects.all(), "session_data", signed_in),
        Rows(
            "email to a member",
            OutboundEmail._base_manager.filter(to_email__in=list(member_at)),
            "to_email",
            member_at.get,
        ),
    ]
    for model, column in _foreign_keys_to(Member):
        rows = model._base_manager.filter(**{f"{column.name}__in": members})
        label = model._meta.label
        found.append(Rows(label, rows, column.attname))
        if any(f.name == "survey" for f in model._meta.concrete_fields):
            found.append(Rows(f"{label}(this survey)", rows.filter(survey=survey), column.attname))
        if model is LedgerEntry:
            source = rows.filter(source=f"surveys.survey:{survey.pk}")
            found.append(Rows(f"{label}(this survey)", source, column.attname))
    for model, column in _foreign_keys_to(User):
        if model is Member:
            continue  # read above
        rows = model._base_manager.filter(**{f"{column.name}__in": list(member_of)})
        found.append(Rows(model._meta.label, rows, column.attname, member_of.get))
    return [rows for rows in found if rows.queryset.exists()]


def response_rows(survey: Survey) -> list[Rows]:
    """Every table that comes from the survey's responses: the responses, every table with
    a foreign key to them or to their answers, and the emails written about them."""
    responses = Response._base_manager.filter(survey=survey)
    found = [Rows("response", responses, "pk")]
    for model, column in _foreign_keys_to(Response):
        rows = model._base_manager.filter(**{f"{column.name}__survey": survey})
        found.append(Rows(model._meta.label, rows, column.attname))
    for model, column in _foreign_keys_to(Answer):
        rows = model._base_manager.filter(**{f"{column.name}__response__survey": survey})
        found.append(Rows(model._meta.label, rows, f"{column.name}__response"))
    # An email names the response it is about in its key ("alert:response:<id>:user:…").
    ours = set(responses.values_list("pk", flat=True))

    def about(key: str) -> int | None:
        match = re.search(r":response:(\d+)", key)
        return int(match[1]) if match and int(match[1]) in ours else None

    emails = OutboundEmail._base_manager.filter(idempotency_key__contains=":response:")
    found.append(Rows("outbound email", emails, "idempotency_key", about))
    return [rows for rows in found if rows.queryset.exists()]


# --- the attacks -------------------------------------------------------------------------


def _by_rank(members: list[int], responses: list[int]) -> dict[str, Guess]:
    """Pair the i-th member with the i-th response, and with the i-th from the end."""
    return {
        "first with first": dict(zip(members, responses, strict=False)),
        "first with last": dict(zip(members, reversed(responses), strict=False)),
    }


def _orders_paired(order_of: Callable[[Rows], Any], survey: Survey) -> dict[str, Guess]:
    """Every ranking of respondents against every ranking of responses, `order_of` giving
    the ORDER BY of a table's rows."""

    def ranked(rows: Rows) -> list[int]:
        order = order_of(rows)
        return rows.owners(*order) if isinstance(order, tuple) else rows.owners(order)

    members = [(rows.label, ranked(rows)) for rows in member_rows(survey)]
    responses = [(rows.label, ranked(rows)) for rows in response_rows(survey)]
    return {
        f"{m_label} with {r_label}, {how}": guess
        for m_label, m_order in members
        for r_label, r_order in responses
        for how, guess in _by_rank(m_order, r_order).items()
    }


def _one_per_owner(times: dict[str, dict[int, list[float]]]) -> dict[str, dict[int, float]]:
    return {
        f"{label} ({which})": {owner: pick(values) for owner, values in by_owner.items()}
        for label, by_owner in times.items()
        for which, pick in (("earliest", min), ("latest", max))
    }


def _all_times(rows: list[Rows]) -> dict[str, dict[int, float]]:
    found = {}
    for one in rows:
        found |= _one_per_owner(one.times())
    return found


def _nearest(members: dict[int, float], responses: dict[int, float], rng) -> Guess:
    """Each member gets the response closest in time (one of them at random on a tie)."""
    guess = {}
    for member, at in members.items():
        gap = min(abs(at - other) for other in responses.values())
        guess[member] = rng.choice(sorted(r for r, t in responses.items() if abs(at - t) == gap))
    return guess


def _in_time_order(members: dict[int, float], responses: dict[int, float], rng) -> Guess:
    """Pair members and responses by rank in time (ties in a random order)."""
    m = sorted(members, key=lambda i: (members[i], rng.random()))
    r = sorted(responses, key=lambda i: (responses[i], rng.random()))
    return dict(zip(m, r, strict=False))


def timestamp_attack(survey: Survey) -> dict[str, Guess]:
    """Every timestamp of every row naming a respondent against every timestamp of every
    row that came from a response: nearest in time, and in the same rank in time."""
    guesses = {}
    for m_label, m_times in _all_times(member_rows(survey)).items():
        for r_label, r_times in _all_times(response_rows(survey)).items():
            rng = random.Random(f"{m_label} {r_label}")
            guesses[f"{m_label} nearest {r_label}"] = _nearest(m_times, r_times, rng)
            guesses[f"{m_label} ranked with {r_label}"] = _in_time_order(m_times, r_times, rng)
    return guesses


def id_order_attack(survey: Survey) -> dict[str, Guess]:
    """Rows naming respondents ranked by id, paired with response rows ranked by id."""
    return _orders_paired(lambda rows: "pk", survey)


WINDOWS = {"tenth of a second": 0.1, "second": 1, "minute": 60, "hour": 3600}


def _windows_lined_up(
    members: dict[int, float], responses: dict[int, float], width: float, rng
) -> Guess:
    """Count the events of each side per window, shift one count profile against the other
    to where they agree best, and pair the members of a window with the responses of the
    window it lines up with."""
    m_windows, r_windows = defaultdict(list), defaultdict(list)
    for member, at in sorted(members.items()):
        m_windows[int(at // width)].append(member)
    for response, at in sorted(responses.items()):
        r_windows[int(at // width)].append(response)

    def agreement(lag: int) -> int:
        return sum(min(len(ms), len(r_windows.get(w + lag, ()))) for w, ms in m_windows.items())

    lags = sorted({rw - mw for mw in m_windows for rw in r_windows})
    lag = max(lags, key=agreement)
    guess = {}
    for window, in_window in m_windows.items():
        candidates = list(r_windows.get(window + lag, ()))
        rng.shuffle(candidates)
        guess |= dict(zip(in_window, candidates, strict=False))
    return guess


def window_count_attack(survey: Survey) -> dict[str, Guess]:
    """Counts per tenth of a second, second, minute and hour of every timestamp on each side."""
    guesses = {}
    for m_label, m_times in _all_times(member_rows(survey)).items():
        for r_label, r_times in _all_times(response_rows(survey)).items():
            for name, width in WINDOWS.items():
                rng = random.Random(f"{m_label} {r_label} {name}")
                guesses[f"{m_label} per {name} with {r_label}"] = _windows_lined_up(
                    m_times, r_times, width, rng
                )
    return guesses


def disk_order_attack(survey: Survey) -> dict[str, Guess]:
    """PostgreSQL: rows ranked by where they sit on disk (ctid), paired by rank."""
    return _orders_paired(lambda rows: rows.system_column("ctid"), survey)


def transaction_attack(survey: Survey) -> tuple[dict[str, Guess], set[int]]:
    """PostgreSQL: a respondent's row and a response's row written, locked or deleted by
    the same transaction (xmin, xmax) name each other; and both sides ranked by the id of
    the transaction that wrote them. Returns the guesses and the shared transaction ids."""
    rng = random.Random("same transaction")
    member_xids, response_xids = defaultdict(set), defaultdict(set)
    for rows in member_rows(survey):
        for member, xids in rows.transactions().items():
            for xid in xids:
                member_xids[xid].add(member)
    for rows in response_rows(survey):
        for response, xids in rows.transactions().items():
            for xid in xids:
                response_xids[xid].add(response)
    shared = set(member_xids) & set(response_xids)
    same = {
        member: rng.choice(sorted(response_xids[xid]))
        for xid in sorted(shared)
        for member in member_xids[xid]
    }
    guesses = {"same transaction": same}
    guesses |= _orders_paired(
        lambda rows: (rows.system_column("xmin"), rows.system_column("ctid")), survey
    )
    return guesses, shared
