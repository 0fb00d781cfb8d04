#!/usr/bin/python3
"""Peer side of `npm run bench` (issue 7): gss-ntlmssp driven through
python3-gssapi, in one process.  Run with Debian's /usr/bin/python3.

Measures, on the same work as the TypeScript fallback bench:
  * full NTLMv2 handshakes/sec (gss_init_sec_context x2 + gss_accept_sec_context
    x2, client asks for a MIC like Windows does, then both contexts deleted;
    credentials are acquired once, outside the loop);
  * gss_export_sec_context + gss_import_sec_context of an established
    acceptor context, in microseconds (the imported context is the next
    sample's input, so every sample exports a live, established context);
  * gss_wrap (client) + gss_unwrap (server) of a 64 KiB message, in MB/s
    where MB = 10^6 bytes and each pair moves 65536 bytes.

Each metric: warm-up, then N samples (each a batch of operations sized to the
time budget); the headline is the median of the per-sample rates, and
"spread" gives min/q1/median/q3/max.  Python-to-C call overhead is included
in every figure; it is measured separately (a trivial gss call) and reported
under "overhead" so a reader can discount it.

Usage: /usr/bin/python3 bench/peer/peer-bench.py [--quick] [--samples N]
Prints one JSON object on stdout.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import gssapi
import gssapi.raw as graw

# One way to ask Debian for the peer's version: the interop harness's.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "interop"))
from peer import gss_version  # noqa: E402

NTLM = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")
SPNEGO_REQ_MIC = gssapi.OID.from_int_seq("1.3.6.1.4.1.7165.655.1.2")
RF = gssapi.RequirementFlag
FLAGS = [RF.integrity, RF.confidentiality, RF.replay_detection,
         RF.out_of_sequence_detection]
DOMAIN, USER, PASSWORD = "EXAMPLE", "alice", "Passw0rd!"
MSG = os.urandom(64 * 1024)


def pkg_version(dist):
    try:
        from importlib.metadata import version as v
        return v(dist)
    except Exception:
        return getattr(gssapi, "__version__", None)


class Setup:
    def __init__(self):
        name = graw.import_name(("%s\\%s" % (DOMAIN, USER)).encode(),
                                gssapi.NameType.user)
        self.ccred = graw.acquire_cred_with_password(
            name, PASSWORD.encode(), usage="initiate", mechs=[NTLM]).creds
        self.scred = graw.acquire_cred(None, usage="accept", mechs=[NTLM]).creds
        self.target = graw.import_name(b"HTTP@srv1.example.com",
                                       gssapi.NameType.hostbased_service)

    def handshake(self, keep=False):
        r1 = graw.init_sec_context(self.target, self.ccred, mech=NTLM, flags=FLAGS)
        c = r1.context
        graw.inquire_sec_context_by_oid(c, SPNEGO_REQ_MIC)  # ask for a MIC
        a1 = graw.accept_sec_context(r1.token, self.scred)
        s = a1.context
        r2 = graw.init_sec_context(self.target, self.ccred, context=c, mech=NTLM,
                                   flags=FLAGS, input_token=a1.token)
        a2 = graw.accept_sec_context(r2.token, self.scred, context=s)
        if r2.more_steps or a2.more_steps:
            raise RuntimeError("handshake did not complete")
        if keep:
            return c, s
        graw.delete_sec_context(c)
        graw.delete_sec_context(s)
        return None


def measure(fn, budget_s, samples, warmup_s):
    """fn(k) runs k operations.  Returns per-op seconds of each sample."""
    # warm-up and calibration
    k = 1
    t_end = time.perf_counter() + warmup_s
    per_op = None
    while True:
        t0 = time.perf_counter()
        fn(k)
        dt = time.perf_counter() - t0
        per_op = dt / k
        if time.perf_counter() >= t_end and dt > 0.002:
            break
        if dt < 0.05:
            k *= 2
    batch = max(1, int((budget_s / samples) / per_op))
    out = []
    for _ in range(samples):
        t0 = time.perf_counter_ns()
        fn(batch)
        out.append((time.perf_counter_ns() - t0) / 1e9 / batch)
    return out, batch


def summarize(values):
    v = sorted(values)
    q = statistics.quantiles(v, n=4, method="inclusive") if len(v) > 1 else [v[0]] * 3
    return {"min": v[0], "q1": q[0], "median": statistics.median(v),
            "q3": q[2], "max": v[-1], "samples": len(v)}


def rounded(d, nd=3):
    return {k: (round(x, nd) if isinstance(x, float) else x) for k, x in d.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="~3 s instead of ~15 s")
    ap.add_argument("--samples", type=int, default=None)
    args = ap.parse_args()
    samples = args.samples or (10 if args.quick else 25)
    budget = 0.6 if args.quick else 3.5      # seconds of samples per metric
    warmup = 0.15 if args.quick else 0.5

    tmp = None
    if not os.environ.get("NTLM_USER_FILE"):
        tmp = tempfile.NamedTemporaryFile("w", prefix="ntlm-users-", delete=False)
        tmp.write("%s:%s:%s\n" % (DOMAIN, USER, PASSWORD))
        tmp.close()
        os.environ["NTLM_USER_FILE"] = tmp.name
    os.environ.setdefault("NETBIOS_COMPUTER_NAME", "SRV1")
    os.environ.setdefault("NETBIOS_DOMAIN_NAME", DOMAIN)

    started = time.perf_counter()
    try:
        st = Setup()

        # 1. handshakes
        def hs(k):
            for _ in range(k):
                st.handshake()
        hs_s, hs_batch = measure(hs, budget, samples, warmup)

        # 2. export + import of an established acceptor context (chained)
        c, s = st.handshake(keep=True)
        holder = [s]

        def exim(k):
            ctx = holder[0]
            for _ in range(k):
                ctx = graw.import_sec_context(graw.export_sec_context(ctx))
            holder[0] = ctx
        ex_s, ex_batch = measure(exim, budget, samples, warmup)
        # sanity: the chained import still talks to the client
        w = graw.wrap(c, b"check", True).message
        assert graw.unwrap(holder[0], w).message == b"check"
        export_size = len(graw.export_sec_context(holder[0]))

        # 3. seal + unseal 64 KiB, client -> server
        c2, s2 = st.handshake(keep=True)

        def seal(k):
            for _ in range(k):
                graw.unwrap(s2, graw.wrap(c2, MSG, True).message)
        se_s, se_batch = measure(seal, budget, samples, warmup)

        # Python call overhead: a trivial call through python-gssapi and the
        # mechglue into gss-ntlmssp (gss_inquire_context, locally_init only),
        # and a 1-byte wrap+unwrap (nearly no crypto).
        def trivial(k):
            for _ in range(k):
                graw.inquire_context(c2, initiator_name=False, target_name=False,
                                     lifetime=False, mech=False, flags=False,
                                     locally_init=True, complete=False)
        tr_s, _ = measure(trivial, budget / 4, samples, warmup / 2)

        def tiny(k):
            for _ in range(k):
                graw.unwrap(s2, graw.wrap(c2, b"x", True).message)
        ti_s, _ = measure(tiny, budget / 4, samples, warmup / 2)
    finally:
        if tmp is not None:
            os.unlink(tmp.name)

    hs_rate = [1.0 / x for x in hs_s]
    ex_us = [x * 1e6 for x in ex_s]
    se_mbps = [len(MSG) / x / 1e6 for x in se_s]
    call_us = statistics.median(tr_s) * 1e6
    tiny_us = statistics.median(ti_s) * 1e6
    result = {
        "name": "gss-ntlmssp %s" % gss_version(),
        "handshakesPerSec": round(statistics.median(hs_rate), 1),
        "exportImportMicros": round(statistics.median(ex_us), 2),
        "sealUnseal64KiBMBps": round(statistics.median(se_mbps), 2),
        "spread": {
            "handshakesPerSec": rounded(summarize(hs_rate), 1),
            "exportImportMicros": rounded(summarize(ex_us), 2),
            "sealUnseal64KiBMBps": rounded(summarize(se_mbps), 2),
        },
        "overhead": {
            "note": "Python->python-gssapi->mechglue call cost, included in every figure above",
            "trivialCallMicros": round(call_us, 2),
            "wrapUnwrap1ByteMicros": round(tiny_us, 2),
            "callsPerHandshake": 7,   # init x2, accept x2, inquire-by-oid (MIC), delete x2
            "callsPerExportImport": 2,
            "callsPerSealUnseal": 2,
            # fraction of each headline figure's time spent in Python call overhead
            "handshakeShare": round(7 * call_us / (1e6 / statistics.median(hs_rate)), 4),
            "exportImportShare": round(2 * call_us / statistics.median(ex_us), 4),
            "sealUnsealShare": round(2 * call_us / (statistics.median(se_s) * 1e6), 4),
            "wrapUnwrap1ByteNote": "fixed per-message cost (mostly gss-ntlmssp's per-call "
                                   "OpenSSL 3 HMAC/RC4 setup, not Python)",
        },
        "config": {
            "samples": samples,
            "batch": {"handshake": hs_batch, "exportImport": ex_batch, "sealUnseal": se_batch},
            "messageBytes": len(MSG),
            "mbIs": "10^6 bytes",
            "exportedContextBytes": export_size,
            "mic": True,
            "flags": "integ|conf|replay|sequence -> NTLM SIGN|SEAL|KEY_EXCH|ESS|128",
            "userFileReadPerHandshake": True,
            "python": sys.version.split()[0],
            "pythonGssapi": pkg_version("gssapi"),
            "quick": bool(args.quick),
            "elapsedSec": round(time.perf_counter() - started, 2),
        },
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
