"""The resource pool of one provider: which resources live when, where and for whom, their daily level,
the GPU spike run, and the names, ids and tags each resource carries."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from finops_xl.sample.catalog import (_APP_TEAMS, _COST_CENTERS, _ENV_VARIANTS, _ENVS, _PROJECTS, _TAG_STYLES,
                                      _TEAM_VARIANTS, _TEAMS)
from finops_xl.sample.spec import _P8
from finops_xl.sample.values import _fmt, _hex, _hex_np, _json, _take

_WEEKDAY_AVG = (5 + 2 * 0.7) / 7


class _ResourcePool:
    """The provider's resources: the numeric pool first (sizing), then the spike, then the strings."""

    def _pool_numeric(self) -> None:
        pd, rng = self.pd, self.rng
        T = self.T
        fixed = [i for i, t in enumerate(pd.templates) for _ in range(t.min_count)]
        n_base = int(math.ceil(max(self.est_daily) * 1.45)) + 64
        n_rand = max(0, n_base - len(fixed))
        weights = np.array([t.weight for t in pd.templates], float)
        tmpl = np.concatenate([np.array(fixed, np.int64),
                               rng.choice(T, size=n_rand, p=weights / weights.sum())]).astype(np.int64)
        n = len(tmpl)
        persistent = np.zeros(n, bool)
        persistent[: len(fixed)] = True
        self.n_base = n
        self.blocks = [self._derive(tmpl, persistent, rng)]
        self.spike_block = None

    def _derive(self, tmpl: np.ndarray, persistent: np.ndarray, rng: np.random.Generator,
                spike: tuple[int, int, int] | None = None) -> dict:
        """Per-resource attributes for templates `tmpl` (spike=(account, start, end) for the GPU run)."""
        pd, cal = self.pd, self.cal
        n = len(tmpl)
        acct = np.zeros(n, np.int64)
        region = np.zeros(n, np.int64)
        acct_w = np.array([a.weight for a in pd.accounts], float)
        reg_w = np.array([r.weight for r in pd.regions], float)
        for i, t in enumerate(pd.templates):
            m = np.flatnonzero(tmpl == i)
            if len(m) == 0:
                continue
            allowed = np.array([j for j, a in enumerate(pd.accounts) if a.role in t.roles], np.int64)
            aw = acct_w[allowed]
            acct[m] = allowed[rng.choice(len(allowed), size=len(m), p=aw / aw.sum())]
            if t.region >= 0:
                region[m] = t.region
            else:
                region[m] = rng.choice(self.G, size=len(m), p=reg_w / reg_w.sum())
        zonal = np.array([t.zonal for t in pd.templates])[tmpl]
        nz = np.array([len(pd.regions[g].zones) for g in range(self.G)])[region]
        az = (self.zone_offset[region] + (rng.random(n) * nz).astype(np.int64)).astype(np.int64)
        az[~zonal] = -1
        if pd.code == "azure":
            az[rng.random(n) < 0.4] = -1  # non-zonal deployments
        # lifetimes: most resources live through the window, ~12% are short-lived
        start = np.full(n, -(10**6), np.int64)
        end = np.full(n, 10**6, np.int64)
        eph = (~persistent) & (rng.random(n) < 0.12)
        k = int(eph.sum())
        start[eph] = rng.integers(-20, cal.total_days, size=k)
        end[eph] = start[eph] + 1 + rng.geometric(1 / 15, size=k)
        if spike is not None:
            acct[:] = spike[0]
            start[:] = spike[1]
            end[:] = spike[2]
        role = np.array([pd.accounts[a].role for a in range(self.A)])[acct]
        env = np.array([pd.accounts[a].env for a in range(self.A)])[acct]
        kind = self.kind[tmpl]
        dev = (kind == 0) & ((env == 1) | (role == "sandbox"))
        autos = np.array([t.autoscale for t in pd.templates])[tmpl]
        asg = (kind == 0) & (rng.random(n) < autos) & ~dev
        med = np.array([t.base for t in pd.templates])[tmpl]
        sig = np.array([t.sigma for t in pd.templates])[tmpl]
        z = np.clip(rng.standard_normal(n), -2.0, 2.0)
        z[persistent & (spike is None)] = 0.0  # fixed shared resources (NAT, firewall...) at median size
        base = med * np.exp(sig * z)
        # teams / tags
        acct_team = np.array([a.team for a in pd.accounts])[acct]
        team = acct_team.copy()
        other = rng.choice(np.array(_APP_TEAMS), size=n)
        swap = np.isin(role, ["app", "data", "ml"]) & (rng.random(n) < 0.1)
        team[swap] = other[swap]
        team[role == "sandbox"] = other[role == "sandbox"]
        untag = np.array([a.untag for a in pd.accounts])[acct]
        untagged = rng.random(n) < untag
        untagged &= ~np.array([t.gpu > 0 for t in pd.templates])[tmpl]  # GPU fleets are governed
        untagged |= np.isin(role, ["network", "security", "mgmt"])
        team[np.isin(role, ["network", "security", "mgmt"])] = -1
        styles = np.array([a.style for a in pd.accounts])[acct]
        allowed_styles = np.array(sorted({a.style for a in pd.accounts}))
        restyle = rng.random(n) < 0.1
        styles[restyle] = allowed_styles[rng.integers(0, len(allowed_styles), size=int(restyle.sum()))]
        st_tv = np.array([s[4] for s in _TAG_STYLES])[styles]
        st_ev = np.array([s[5] for s in _TAG_STYLES])[styles]
        lower_only = np.array([s[6] == (1, 2) for s in _TAG_STYLES])[styles]
        rand_v = np.where(lower_only, rng.integers(1, 3, size=n), rng.integers(0, 4, size=n))
        tvar = np.where(rng.random(n) < 0.2, rand_v, st_tv)
        evar = np.where(rng.random(n) < 0.15, rand_v, st_ev)
        partial = (~untagged) & (rng.random(n) < 0.04)
        project = np.where((role == "ml") & (rng.random(n) < 0.7), rng.integers(0, len(_PROJECTS), size=n), -1)
        k8s = np.array([t.k8s for t in pd.templates])[tmpl]
        is_spike = np.zeros(n, bool)
        if spike is not None:
            untagged[:] = False
            partial[:] = False
            project[:] = 0
            team[:] = 3
            is_spike[:] = True
        exp_hours = np.where(dev, (5 * 12 + 2 * 2) / 7, np.where(asg, 14.0, 24.0))
        return dict(tmpl=tmpl, acct=acct, region=region, az=az, start=start, end=end, dev=dev, asg=asg,
                    base=base, team=team, tvar=tvar, evar=evar, style=styles, untagged=untagged,
                    partial=partial, project=project, k8s=k8s, env=env, spike=is_spike, exp_hours=exp_hours)

    def expected_daily_cost(self, blk: dict) -> np.ndarray:
        """Expected contracted cost per resource per day in USD (float, for sizing only)."""
        t, g = blk["tmpl"], blk["region"]
        kind = self.kind[t]
        cup = self.cup8[t, g] / _P8
        q = np.where(kind == 0, blk["exp_hours"], 0.0)
        q = np.where(kind == 1, blk["base"] / 30.4, q)
        q = np.where(kind == 2, blk["base"] * math.exp(0.35**2 / 2) * _WEEKDAY_AVG, q)
        q = np.where(kind == 3, blk["base"] * math.exp(0.4**2 / 2) * _WEEKDAY_AVG / self.pq_div[t], q)
        return cup * q

    def expected_month_cost(self, m: int) -> float:
        blk = self.blocks[0]
        n = min(self.n_base, int(self.est_daily[m]))
        return float(self.expected_daily_cost({k: v[:n] for k, v in blk.items()}).sum()) * self.cal.month_days[m]

    # ---- spike ----------------------------------------------------------------------------------
    def add_spike(self, month: int, usd: float) -> None:
        pd, cal = self.pd, self.cal
        if not pd.spike_template or usd <= 0:
            self.spike_alive = np.zeros(cal.total_days, np.int64)
            return
        ti = self.tkey[pd.spike_template]
        node_day = float(self.cup8[ti, 0]) / _P8 * 24
        dim = cal.month_days[month]
        d_max = max(1, min(18, dim - 6))
        node_days = usd / node_day
        k = max(1, math.ceil(node_days / d_max))
        days = int(min(d_max, max(1, round(node_days / k))))
        s = cal.month_first_day[month] + min(4, dim - days)
        rng = np.random.default_rng([self.spec.seed % 2**63, 15485863, self.pidx])
        acct = next(i for i, a in enumerate(pd.accounts) if a.role == "ml")
        blk = self._derive(np.full(k, ti, np.int64), np.ones(k, bool), rng, spike=(acct, s, s + days))
        self.blocks.append(blk)
        self.spike_alive = np.zeros(cal.total_days, np.int64)
        self.spike_alive[s: s + days] = k

    # ---- strings per resource -------------------------------------------------------------------
    def finalize(self) -> None:
        pool = {k: np.concatenate([b[k] for b in self.blocks]) for k in self.blocks[0]}
        self.pool = pool
        n = len(pool["tmpl"])
        pd = self.pd
        rng = np.random.default_rng([self.spec.seed % 2**63, 32452843, self.pidx])
        self.lup_r = self.lup8[pool["tmpl"], pool["region"]]
        self.cup_r = self.cup8[pool["tmpl"], pool["region"]]
        self.tg_r = pool["tmpl"] * self.G + pool["region"]
        team_slug = np.array(list(_TEAMS) + ["netops", "secops", "shared"])
        role = np.array([pd.accounts[a].role for a in range(self.A)])[pool["acct"]]
        tslug_idx = np.where(pool["team"] >= 0, pool["team"],
                             np.where(role == "network", 7, np.where(role == "security", 8, 9)))
        if pd.code == "azure":
            team_slug = np.char.replace(team_slug, "-", "")
        fields = {
            "team": pa.array(team_slug[tslug_idx]),
            "env": pa.array(np.array(["prod", "dev", "stg"])[pool["env"]]),
            "seq": pc.utf8_lpad(pc.cast(pa.array(np.arange(n)), pa.string()), 4, padding="0"),
            "num": pc.cast(pa.array(rng.integers(10**11, 10**12, size=n)), pa.string()),
            "hex8": _hex(rng, n, 8),
            "hex12": _hex(rng, n, 12),
            "hex16": _hex(rng, n, 16),
            "hex32": _hex(rng, n, 32),
            "HEX13": _hex(rng, n, 13, upper=True),
            "acct": _take(self.s_acct_id, pool["acct"]),
            "region": _take(self.s_region_id, pool["region"]),
            "az": _take(self.s_zones, pool["az"]),
        }
        tmpl = pool["tmpl"]
        order = np.argsort(tmpl, kind="stable")
        names, rids = [], []
        for i, t in enumerate(pd.templates):
            idx = order[np.searchsorted(tmpl[order], i, "left"): np.searchsorted(tmpl[order], i, "right")]
            if len(idx) == 0:
                continue
            f = {k: v.take(pa.array(idx)) for k, v in fields.items()}
            nm = _fmt(t.name.replace("{purpose}", t.purpose), f, len(idx))
            f["name"] = nm
            names.append(nm)
            rids.append(_fmt(t.rid, f, len(idx)))
        inv = np.empty(n, np.int64)
        inv[order] = np.arange(n)
        self.s_res_name = pa.concat_arrays(names).take(pa.array(inv))
        self.s_res_id = pa.concat_arrays(rids).take(pa.array(inv))
        self.s_tags = self._tags(pool)
        cr = np.where(pool["spike"], 0, -1)
        cr_id = ("cr-0" + _hex_np(rng, 1, 16)[0].decode()) if pd.code == "aws" else \
            "projects/acme-ml-vertex/zones/us-central1-a/reservations/a3-pretrain-res"
        self.cr_idx = cr
        self.s_cr_id = pa.array([cr_id], pa.string())
        self.s_cr_status = pa.array(["Used"], pa.string())
        self._commitments()

    def _tags(self, pool: dict) -> pa.Array:
        pd = self.pd
        k8s_kind = pool["k8s"].astype(np.int64)
        cols = np.stack([pool["style"], pool["team"], pool["tvar"], pool["env"], pool["evar"], k8s_kind,
                         pool["partial"].astype(np.int64), pool["project"], pool["untagged"].astype(np.int64)],
                        axis=1)
        uniq, inverse = np.unique(cols, axis=0, return_inverse=True)
        out: list[str | None] = []
        for style, team, tvar, env, evar, k8s, partial, project, untagged in uniq.tolist():
            if untagged:
                out.append(pd.untagged)
                continue
            tk, ek, ck, cfmt, _, _, _ = _TAG_STYLES[style]
            env_name = _ENVS[env]
            tags: dict[str, str] = {}
            if k8s:
                tags.update(pd.k8s_tags)
            if team >= 0 and not partial:
                tname = _TEAMS[team]
                tags[tk] = _TEAM_VARIANTS[tname][tvar]
            tags[ek] = _ENV_VARIANTS[env_name][evar]
            if team >= 0 and not partial and ck:
                tags[ck] = cfmt.format(n=_COST_CENTERS[_TEAMS[team]])
            if project >= 0:
                tags["project"] = _PROJECTS[project]
            out.append(_json(tags))
        return pa.array(out, pa.string()).take(pa.array(inverse.ravel()))
