"""The portfolio as JSON: every number the other renderers show, plus each contribution.

A learner's summary gives every key; its public part (`Summary.public`, `--public` in the CLI)
leaves out the private ones (pending login, funnel, next issue, the ramp, level and next step,
"suggested" attributions) and states the latest merge as a date.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from matcher.portfolio import Summary, concentration, highlights, next_step, ramp_text
from matcher.ramp import STAGES
from matcher.render.chart import timeline


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def summary_dict(summary: Summary) -> dict:
    """A JSON-ready dict (stable keys; times in ISO 8601 UTC); the private keys only for the
    learner's own summary."""
    data = _public_dict(summary)
    if summary.is_public:
        return data
    data["pending_login"] = summary.pending_login
    data["totals"]["from_suggestions"] = summary.attributed
    data["funnel"] = asdict(summary.funnel) if summary.funnel else None
    data["next_issue"] = asdict(summary.next_issue) if summary.next_issue else None
    data["story"].update(_private_story(summary))
    for item, e in zip(data["contributions"], summary.entries, strict=True):
        item["suggested_at"] = _iso(e.suggested_at)
        item["suggested_issue"] = e.suggested_issue
    return data


def _public_dict(summary: Summary) -> dict:
    return {
        "audience": summary.audience.value,
        "login": summary.login,
        "profile_url": summary.profile_url,
        "verified": summary.verified,
        "generated_at": _iso(summary.generated_at),
        "headline": summary.headline,
        "recency": summary.recency,
        "totals": {
            "merged_pull_requests": summary.merged,
            "reverted": summary.reverted,
            "repositories": summary.repos_count,
            "projects": len(summary.projects),
            "own_repositories": len(summary.own_repos),
            "additions": summary.additions,
            "deletions": summary.deletions,
        },
        "first_merge": _iso(summary.first_merge),
        "latest_merge": _iso(summary.latest_merge),
        "streaks": {
            "current_weeks": summary.current_streak_weeks,
            "longest_weeks": summary.longest_streak_weeks,
            "active_weeks": summary.active_weeks,
        },
        "repositories": [asdict(r) for r in summary.repos],
        "skills": {
            "languages": dict(summary.languages),
            "niches": dict(summary.niches),
            "labels": dict(summary.labels),
        },
        "highlights": [{"why": why, "url": e.contribution.url} for why, e in highlights(summary)],
        "timeline": _timeline(summary),
        "story": {"focus": concentration(summary)},
        "contributions": [
            {
                "url": e.contribution.url,
                "repo": e.contribution.repo,
                "number": e.contribution.number,
                "title": e.contribution.title,
                "merged_at": _iso(e.contribution.merged_at),
                "additions": e.contribution.additions,
                "deletions": e.contribution.deletions,
                "labels": list(e.contribution.labels),
                "closes": list(e.contribution.closes),
                "repo_stars": e.contribution.repo_stars,
                "repo_language": e.contribution.repo_language,
                "repo_topics": list(e.contribution.repo_topics),
                "reverted": e.contribution.reverted,
                "reverted_by": e.contribution.reverted_by,
                "niches": list(e.niches),
            }
            for e in summary.entries
        ],
    }


def _private_story(summary: Summary) -> dict:
    """The learner's part of the niche story: the ramp's numbers and the level the next step
    aims at (the ranking's: verified merges, issues under way, pace)."""
    ramp, level = summary.ramp, summary.level
    basis = level.basis_in()
    step = next_step(summary)
    return {
        "ramp": {
            "step": ramp.step,
            "of": len(STAGES),
            "stage": ramp.stage,
            "counts": dict(zip(STAGES, ramp.counts, strict=True)),
            "text": ramp_text(summary),
        },
        "level": {
            "ready": level.ready,
            "pace": level.pace,
            "target": level.target,
            "basis": basis.phrase if basis else None,
        },
        "next_step": {"text": step.text, "url": step.url} if step else None,
    }


def _timeline(summary: Summary) -> dict | None:
    """The chart's bins: merged pull requests per week or month, up to the summary's date."""
    t = timeline(summary)
    if t is None:
        return None
    return {
        "unit": t.unit,
        "bins": [
            {"start": s.isoformat(), "merged": n} for s, n in zip(t.starts, t.counts, strict=True)
        ],
    }


def to_json(summary: Summary) -> str:
    """The summary as indented JSON (its public part when it is public)."""
    return json.dumps(summary_dict(summary), indent=2, ensure_ascii=False) + "\n"
