#!/usr/bin/python3
"""JSON-lines harness around gss-ntlmssp, the real NTLM peer for interop tests.

Run it with Debian's /usr/bin/python3 (the pyenv python3 on PATH cannot see
python3-gssapi).  One JSON request per line on stdin, one JSON response per
line on stdout.  Binary values travel as base64 strings.  See README.md in
this folder for the protocol, the environment variables and the quirks of
gss-ntlmssp that an MS-NLMP implementation has to match.

Every response echoes the request's "rid" (if any).  A failure is
{"rid": .., "error": {"major", "minor", "message", ...}}; the loop never dies
on a bad request.
"""

import base64
import json
import os
import subprocess
import sys
import traceback

try:
    import gssapi
    import gssapi.raw as graw
    from gssapi.raw import GSSError
except Exception as exc:  # pragma: no cover - reported to the caller
    sys.stdout.write(json.dumps({"fatal": "cannot import gssapi: %s" % exc}) + "\n")
    sys.stdout.flush()
    sys.exit(2)

NTLM_OID = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")
# RFC 4178 SPNEGO, MIT's mechglue implementation with gss-ntlmssp underneath.
SPNEGO_OID = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
MECHS = {"ntlm": NTLM_OID, "spnego": SPNEGO_OID}
# gss-ntlmssp private OIDs (src/gssapi_ntlmssp.h, base 1.3.6.1.4.1.7165.655.1)
# .2 = "SPNEGO require MIC": querying it with gss_inquire_sec_context_by_oid
# before the AUTHENTICATE is built makes the initiator add a MIC
# (MsvAvFlags 0x2), which is what Windows clients do.
SPNEGO_REQ_MIC_OID = gssapi.OID.from_int_seq("1.3.6.1.4.1.7165.655.1.2")

RF = gssapi.RequirementFlag
FLAG_BY_NAME = {
    "delegate": RF.delegate_to_peer,
    "mutual": RF.mutual_authentication,
    "replay": RF.replay_detection,
    "sequence": RF.out_of_sequence_detection,
    "conf": RF.confidentiality,
    "integ": RF.integrity,
    "anonymous": RF.anonymity,
    "identify": getattr(RF, "identify", None),
}
# integ -> NTLMSSP_NEGOTIATE_SIGN|KEY_EXCH; conf -> SEAL|KEY_EXCH|ESS (|LM_KEY,
# dropped again because ESS wins); replay/sequence only add SIGN|KEY_EXCH.
DEFAULT_FLAGS = ["integ", "conf", "replay", "sequence"]

CTX_ENV_KEYS = ("NTLM_USER_FILE", "NETBIOS_COMPUTER_NAME", "NETBIOS_DOMAIN_NAME")

ROUTINE_ERRORS = {
    1: "GSS_S_BAD_MECH", 2: "GSS_S_BAD_NAME", 3: "GSS_S_BAD_NAMETYPE",
    4: "GSS_S_BAD_BINDINGS", 5: "GSS_S_BAD_STATUS", 6: "GSS_S_BAD_SIG",
    7: "GSS_S_NO_CRED", 8: "GSS_S_NO_CONTEXT", 9: "GSS_S_DEFECTIVE_TOKEN",
    10: "GSS_S_DEFECTIVE_CREDENTIAL", 11: "GSS_S_CREDENTIALS_EXPIRED",
    12: "GSS_S_CONTEXT_EXPIRED", 13: "GSS_S_FAILURE", 14: "GSS_S_BAD_QOP",
    15: "GSS_S_UNAUTHORIZED", 16: "GSS_S_UNAVAILABLE",
    17: "GSS_S_DUPLICATE_ELEMENT", 18: "GSS_S_NAME_NOT_MN",
}
CALLING_ERRORS = {
    1: "GSS_S_CALL_INACCESSIBLE_READ", 2: "GSS_S_CALL_INACCESSIBLE_WRITE",
    3: "GSS_S_CALL_BAD_STRUCTURE",
}
SUPPLEMENTARY = {
    1: "GSS_S_CONTINUE_NEEDED", 2: "GSS_S_DUPLICATE_TOKEN",
    4: "GSS_S_OLD_TOKEN", 8: "GSS_S_UNSEQ_TOKEN", 16: "GSS_S_GAP_TOKEN",
}


class HarnessError(Exception):
    """A request the harness itself refuses (bad id, missing field...)."""


def b64d(value, field):
    if not isinstance(value, str):
        raise HarnessError("field %r must be a base64 string" % field)
    try:
        return base64.b64decode(value, validate=True)
    except Exception:
        raise HarnessError("field %r is not valid base64" % field)


def b64e(data):
    return None if data is None else base64.b64encode(bytes(data)).decode("ascii")


def display(name):
    """gss_display_name as a str.  gss-ntlmssp 1.2 counts the trailing NUL in
    the buffer length (b'DOM\\\\user\\x00'); strip it."""
    if name is None:
        return None
    raw = graw.display_name(name, name_type=False).name
    return raw.rstrip(b"\x00").decode("utf-8", "replace")


def gss_version():
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "gss-ntlmssp"],
            capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except Exception:
        pass
    return "unknown"


class ScopedEnv:
    """Apply per-context overrides of the env vars gss-ntlmssp reads with
    getenv() at the time of the call (user file at AUTHENTICATE time, NetBIOS
    names at the first accept/init step).  The harness is single threaded."""

    def __init__(self, overrides):
        self.overrides = overrides or {}
        self.saved = {}

    def __enter__(self):
        for key, value in self.overrides.items():
            self.saved[key] = os.environ.get(key)
            os.environ[key] = value
        return self

    def __exit__(self, *exc):
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return False


class Ctx:
    def __init__(self, role):
        self.role = role            # "client" | "server" | "imported"
        self.ctx = None             # gssapi.raw SecurityContext
        self.cred = None
        self.target = None          # client: gss name of the target
        self.flags = []
        self.want_mic = True
        self.env = {}
        self.done = False
        self.initiator = None       # str, filled when known
        self.acceptor = None        # str or None
        self.named_acceptor = False
        self.steps = 0
        self.mech = NTLM_OID        # the mech this context speaks
        self.bindings = None        # gssapi ChannelBindings or None


class Peer:
    def __init__(self):
        self.contexts = {}
        self.counter = 0
        self.stopping = False

    # -- helpers ---------------------------------------------------------
    def new_id(self, prefix):
        self.counter += 1
        return "%s%d" % (prefix, self.counter)

    def get(self, req):
        cid = req.get("id")
        if not isinstance(cid, str) or cid not in self.contexts:
            raise HarnessError("unknown context id %r" % (cid,))
        return self.contexts[cid]

    def established(self, req):
        c = self.get(req)
        if c.ctx is None or not c.done:
            raise HarnessError("context %s is not established" % req.get("id"))
        return c

    @staticmethod
    def mech_and_bindings(c, req):
        """`mech`: "ntlm" (default) or "spnego"; `channelBindings`: base64
        RFC 5929 application data, sent as gss_channel_bindings_struct with
        only application_data set (what a TLS client does)."""
        mech = req.get("mech") or "ntlm"
        if mech not in MECHS:
            raise HarnessError("unknown mech %r" % (mech,))
        c.mech = MECHS[mech]
        if req.get("channelBindings") is not None:
            c.bindings = graw.ChannelBindings(
                application_data=b64d(req["channelBindings"], "channelBindings"))

    @staticmethod
    def env_overrides(req):
        env = {}
        for key, field in (("NTLM_USER_FILE", "userFile"),
                           ("NETBIOS_COMPUTER_NAME", "computerName"),
                           ("NETBIOS_DOMAIN_NAME", "domainName")):
            if req.get(field) is not None:
                env[key] = str(req[field])
        return env

    # -- ops -------------------------------------------------------------
    def op_shutdown(self, req):
        self.stopping = True
        return {"bye": True}

    def op_ping(self, req):
        return {"pong": True}

    def op_version(self, req):
        return {
            "gssNtlmssp": gss_version(),
            "pythonGssapi": getattr(gssapi, "__version__", None) or _pkg_version("gssapi"),
            "python": sys.version.split()[0],
            "mechs": [str(m) for m in graw.indicate_mechs()],
            "env": {k: os.environ.get(k) for k in CTX_ENV_KEYS},
        }

    def op_client_new(self, req):
        user = req.get("user")
        if not isinstance(user, str) or not user:
            raise HarnessError("client_new needs user")
        domain = req.get("domain") or ""
        password = req.get("password")
        if not isinstance(password, str):
            raise HarnessError("client_new needs password")
        target = req.get("target")
        if not isinstance(target, str) or not target:
            raise HarnessError("client_new needs target (service@host or service/host)")
        # gss hostbased names are service@host; gss-ntlmssp turns them into
        # the SPN service/host that it puts in MsvAvTargetName.
        if "@" not in target and "/" in target:
            target = target.replace("/", "@", 1)
        flags = req.get("flags") or DEFAULT_FLAGS
        c = Ctx("client")
        c.env = self.env_overrides(req)
        self.mech_and_bindings(c, req)
        # SPNEGO asks gss-ntlmssp for the MIC itself.
        c.want_mic = req.get("mic", True) is not False and c.mech == NTLM_OID
        c.flags = []
        for f in flags:
            if FLAG_BY_NAME.get(f) is None:
                raise HarnessError("unknown flag %r" % f)
            c.flags.append(FLAG_BY_NAME[f])
        # DOMAIN\user: gss-ntlmssp splits it and sends DOMAIN in the
        # AUTHENTICATE; the domain is also used as-is (not upper-cased) in
        # NTOWFv2.  An empty domain gives "\user" (domain "").
        uname = ("%s\\%s" % (domain, user)).encode("utf-8")
        with ScopedEnv(c.env):
            name = graw.import_name(uname, gssapi.NameType.user)
            c.cred = graw.acquire_cred_with_password(
                name, password.encode("utf-8"), usage="initiate",
                mechs=[NTLM_OID]).creds
        c.target = graw.import_name(target.encode("utf-8"),
                                    gssapi.NameType.hostbased_service)
        cid = self.new_id("c")
        self.contexts[cid] = c
        return {"id": cid}

    def op_server_new(self, req):
        c = Ctx("server")
        c.env = self.env_overrides(req)
        self.mech_and_bindings(c, req)
        accept_mechs = [NTLM_OID, SPNEGO_OID] if c.mech == SPNEGO_OID else [NTLM_OID]
        service = req.get("service")
        with ScopedEnv(c.env):
            if service:
                if "@" not in service and "/" in service:
                    service = service.replace("/", "@", 1)
                # A named acceptor puts MsvAvTargetName (SPN) and the host as
                # MsvAvDnsComputerName in the CHALLENGE target info.
                name = graw.import_name(service.encode("utf-8"),
                                        gssapi.NameType.hostbased_service)
                c.cred = graw.acquire_cred(name, usage="accept",
                                           mechs=accept_mechs).creds
                c.named_acceptor = True
            else:
                c.cred = graw.acquire_cred(None, usage="accept",
                                           mechs=accept_mechs).creds
        cid = self.new_id("s")
        self.contexts[cid] = c
        return {"id": cid}

    def op_step(self, req):
        c = self.get(req)
        if c.done:
            raise HarnessError("context %s is already established" % req.get("id"))
        token = req.get("token")
        token = b64d(token, "token") if token is not None else None
        try:
            return self._step(c, token)
        except GSSError:
            # gss-ntlmssp deletes a context whose step failed; drop our id
            # so later requests get a clean "unknown context" refusal.
            self.contexts.pop(req.get("id"), None)
            raise

    def _step(self, c, token):
        with ScopedEnv(c.env):
            if c.role == "client":
                res = graw.init_sec_context(
                    c.target, c.cred, context=c.ctx, mech=c.mech,
                    flags=c.flags, input_token=token,
                    channel_bindings=c.bindings)
                c.ctx = res.context
                c.steps += 1
                if c.want_mic and c.steps == 1 and res.more_steps:
                    # Must happen after NEGOTIATE, before AUTHENTICATE.
                    graw.inquire_sec_context_by_oid(c.ctx, SPNEGO_REQ_MIC_OID)
                more = res.more_steps
                out = res.token
            elif c.role == "server":
                if token is None:
                    raise HarnessError("server step needs a token")
                res = graw.accept_sec_context(token, c.cred, context=c.ctx,
                                              channel_bindings=c.bindings)
                c.ctx = res.context
                c.steps += 1
                more = res.more_steps
                out = res.token
                if not more and res.initiator_name is not None:
                    c.initiator = display(res.initiator_name)
            else:
                raise HarnessError("imported contexts cannot step")
        c.done = not more
        resp = {"token": b64e(out) if out else None, "done": c.done}
        if c.done:
            resp["flags"] = int(res.flags)
            if c.role == "client" and c.want_mic:
                mic = graw.inquire_sec_context_by_oid(c.ctx, SPNEGO_REQ_MIC_OID)
                resp["micSent"] = bool(mic and mic[0] == b"\x01")
        return resp

    def op_names(self, req):
        c = self.established(req)
        info = graw.inquire_context(c.ctx, initiator_name=True,
                                    target_name=False, lifetime=False,
                                    mech=False, flags=True,
                                    locally_init=True, complete=True)
        initiator = display(info.initiator_name)
        if info.locally_init or c.named_acceptor:
            target = display(graw.inquire_context(
                c.ctx, initiator_name=False, target_name=True, lifetime=False,
                mech=False, flags=False, locally_init=False,
                complete=False).target_name)
        else:
            # gss-ntlmssp 1.2.0 segfaults in gss_inquire_context(target_name)
            # on an acceptor without a name (fixed upstream in 1.3.0,
            # a060d02).  Ask in a forked child so a crash cannot take the
            # harness down.
            target = safe_target_name(c.ctx)
        return {
            "initiator": initiator,
            "acceptor": target,
            "locallyInitiated": bool(info.locally_init),
            "complete": bool(info.complete),
            "flags": int(info.flags),
            "flagNames": flag_names(info.flags),
        }

    def op_wrap(self, req):
        c = self.established(req)
        data = b64d(req.get("data"), "data")
        conf = req.get("conf", True) is not False
        res = graw.wrap(c.ctx, data, confidential=conf)
        return {"data": b64e(res.message), "encrypted": bool(res.encrypted)}

    def op_unwrap(self, req):
        c = self.established(req)
        data = b64d(req.get("data"), "data")
        res = graw.unwrap(c.ctx, data)
        return {"data": b64e(res.message), "encrypted": bool(res.encrypted)}

    def op_get_mic(self, req):
        c = self.established(req)
        data = b64d(req.get("data"), "data")
        return {"mic": b64e(graw.get_mic(c.ctx, data))}

    def op_verify_mic(self, req):
        c = self.established(req)
        data = b64d(req.get("data"), "data")
        mic = b64d(req.get("mic"), "mic")
        graw.verify_mic(c.ctx, data, mic)
        return {"ok": True}

    def op_export(self, req):
        c = self.get(req)
        if c.ctx is None:
            raise HarnessError("context %s has not started" % req.get("id"))
        data = graw.export_sec_context(c.ctx)
        # gss_export_sec_context deactivates the source context.
        del self.contexts[req["id"]]
        return {"data": b64e(data)}

    def op_import(self, req):
        data = b64d(req.get("data"), "data")
        ctx = graw.import_sec_context(data)
        c = Ctx("imported")
        c.ctx = ctx
        info = graw.inquire_context(ctx, initiator_name=False,
                                    target_name=False, lifetime=False,
                                    mech=False, flags=False,
                                    locally_init=True, complete=True)
        c.done = bool(info.complete)
        cid = self.new_id("i")
        self.contexts[cid] = c
        return {"id": cid, "complete": c.done,
                "locallyInitiated": bool(info.locally_init)}

    def op_close(self, req):
        cid = req.get("id")
        c = self.contexts.pop(cid, None) if isinstance(cid, str) else None
        if c is not None and c.ctx is not None:
            try:
                graw.delete_sec_context(c.ctx)
            except GSSError:
                pass
        return {"closed": c is not None}


def _pkg_version(dist):
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:
        return None


def flag_names(flags):
    names = []
    for name, value in FLAG_BY_NAME.items():
        if value is not None and int(flags) & int(value):
            names.append(name)
    return names


def safe_target_name(ctx):
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(rfd)
        try:
            tn = graw.inquire_context(ctx, initiator_name=False,
                                      target_name=True, lifetime=False,
                                      mech=False, flags=False,
                                      locally_init=False,
                                      complete=False).target_name
            out = json.dumps({"name": display(tn)})
        except BaseException:
            out = json.dumps({"name": None})
        os.write(wfd, out.encode("utf-8"))
        os._exit(0)
    os.close(wfd)
    chunks = []
    while True:
        b = os.read(rfd, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(rfd)
    os.waitpid(pid, 0)
    try:
        return json.loads(b"".join(chunks).decode("utf-8"))["name"]
    except Exception:
        return None


def gss_error(exc):
    major = int(getattr(exc, "maj_code", 0) or 0)
    minor = int(getattr(exc, "min_code", 0) or 0)
    try:
        message = exc.gen_message()
    except Exception:
        message = str(exc)
    minor_message = None
    if minor:
        try:
            msgs = graw.display_status(minor, False, NTLM_OID)
            minor_message = msgs[0].decode("utf-8", "replace") if isinstance(msgs[0], bytes) else str(msgs[0])
        except Exception:
            minor_message = None
    routine = (major >> 16) & 0xFF
    calling = (major >> 24) & 0xFF
    supp = major & 0xFFFF
    names = []
    if calling:
        names.append(CALLING_ERRORS.get(calling, "calling(%d)" % calling))
    if routine:
        names.append(ROUTINE_ERRORS.get(routine, "routine(%d)" % routine))
    for bit, n in SUPPLEMENTARY.items():
        if supp & bit:
            names.append(n)
    return {"major": major, "minor": minor, "message": message,
            "minorMessage": minor_message, "names": names,
            "routine": ROUTINE_ERRORS.get(routine)}


def handle(peer, line):
    rid = None
    try:
        req = json.loads(line)
        if not isinstance(req, dict):
            raise HarnessError("request must be a JSON object")
        rid = req.get("rid")
        op = req.get("op")
        fn = getattr(peer, "op_%s" % op, None) if isinstance(op, str) else None
        if fn is None:
            raise HarnessError("unknown op %r" % (op,))
        resp = fn(req)
    except GSSError as exc:
        resp = {"error": gss_error(exc)}
    except HarnessError as exc:
        resp = {"error": {"major": 0, "minor": 0, "message": str(exc),
                          "harness": True}}
    except Exception as exc:  # never let one request kill the loop
        resp = {"error": {"major": 0, "minor": 0,
                          "message": "%s: %s" % (type(exc).__name__, exc),
                          "harness": True,
                          "trace": traceback.format_exc(limit=5)}}
    if rid is not None:
        resp["rid"] = rid
    return resp


def main():
    peer = Peer()
    out = sys.stdout
    out.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    out.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        resp = handle(peer, line)
        out.write(json.dumps(resp) + "\n")
        out.flush()
        if peer.stopping:
            break


if __name__ == "__main__":
    main()
