#!/usr/bin/python3
"""A second implementation of the ITB pump's bench interface, written from the ICD alone.

docs/icd/pump-bench-protocol.md is the only source of this file: it shares no code and no
reading with pumprig's C++ pump simulator, so where the two disagree one of them misread the
document. pumprig's driver and the end-of-line scenario run against it as a conformance peer.

Serves the pump on a pseudo-terminal it creates (default) or on a serial device given with
--port (opened with python3-serial), and optionally an LF-2000 (or any profile's) flow meter
over Modbus TCP fed by the volume this pump delivers (--meter-tcp). Prints one line on stdout
when both accept requests:

    READY pump=<device> meter_tcp=<host:port|-> clock_ms=<pump clock> speed=<factor>

Time: the pump's elapsed time runs at --speed bench seconds per wall second (realtime x N);
the pump clock starts at --start (Unix seconds, default now).

Where the ICD leaves a choice, this peer takes the variations a host must live with: events
go out before the response of the request that caused them, responses and events carry a key
the host does not know (--extra-keys), BUSY can be answered (--busy-every). Conservative
readings of ambiguous points are noted where they are made.

Control lines on stdin (optional): "STALL" (a motor stall), "BATTERY <pct>", "QUIT".
"""
import argparse
import asyncio
import hashlib
import hmac
import math
import os
import random
import re
import sys
import time
import tty

TEST_KEY_HEX = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"

DECIMAL = re.compile(r"\d+(\.\d{1,6})?")
WHOLE = re.compile(r"\d+")
TIME_OF_DAY = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
KEY = re.compile(r"[a-z][a-z0-9_.]*")
HEX64 = re.compile(r"[0-9A-Fa-f]{64}")

MAX_LINE = 256        # bytes from '$' to LF
MAX_BODY = 240
STROKE_UL = 0.25      # section 9: the rotor delivers in strokes of 0.25 uL
RESEND_S = 10.0       # section 2: unacknowledged events are sent again after 10 s elapsed
MAX_EVENTS = 64
LOCKOUT_S = 60.0      # section 3
BOOT_DELAY_S = 0.5    # section 7: BOOT within 2 s of elapsed time after RESET
EMPTY_ML = 0.5
MIN_RATE_ML_DAY = 0.048
MAX_RATE_ML_DAY = 24.0
MAX_BOLUS_ML_H = 1.0
PRIME_ML_H = 1.0
CONC_MIN, CONC_MAX = 50, 4000
RESERVOIR_ML = {"ITB-20": 20.0, "ITB-40": 40.0}

# Value syntax of each request key (section 2: keys that count things take whole numbers).
KEY_SYNTAX = {
    "mac": "text", "set": "clock", "n": "whole", "start": "tod", "dose_ug_day": "decimal",
    "dose_ug": "decimal", "dur_min": "whole", "lockout_min": "whole", "max_day": "whole",
    "step": "whole", "bolus": "whole", "ptm": "whole", "vol_ml": "decimal", "res_ml": "decimal",
    "conc_ug_ml": "whole", "low_res_ml": "decimal",
}


def crc16_ccitt_false(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def frame(body: str) -> bytes:
    raw = body.encode("ascii")
    return b"$" + raw + b"*" + f"{crc16_ccitt_false(raw):04X}".encode() + b"\r\n"


def fmt3(x):
    return f"{x:.3f}"


def fmt1(x):
    return f"{x:.1f}"


class Reject(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


class LineReceiver:
    """Section 2, receiving: yields ("line", body) for a good line, ("crc", None) for a complete
    line with a CRC that does not match; everything else is dropped without an answer."""

    def __init__(self):
        self.buf = None      # bytes from '$' on, or None outside a frame
        self.too_long = False

    def feed(self, data: bytes):
        out = []
        for b in data:
            if b == 0x24:  # '$' starts a new frame wherever it comes
                self.buf = bytearray(b"$")
                self.too_long = False
            elif self.buf is None:
                continue
            elif b == 0x0A:
                line, too_long = bytes(self.buf), self.too_long or len(self.buf) + 1 > MAX_LINE
                self.buf = None
                if not too_long:
                    r = self._parse(line)
                    if r is not None:
                        out.append(r)
            else:
                self.buf.append(b)
                if len(self.buf) > MAX_LINE:
                    self.too_long = True
                    self.buf = bytearray(b"$")  # keep counting nothing more: the line is dropped at LF
        return out

    @staticmethod
    def _parse(line: bytes):
        if line.endswith(b"\r"):
            line = line[:-1]
        if any(c < 0x20 or c > 0x7E for c in line):
            return None
        star = line.find(b"*")
        if star < 0:
            return None
        body, crc = line[1:star], line[star + 1:]
        # Conservative: only '*' and exactly four hex digits make a complete request line that
        # earns a CRC answer; anything else after '*' is a broken line, dropped silently.
        if len(crc) != 4 or not all(c in b"0123456789abcdefABCDEF" for c in crc):
            return None
        if int(crc, 16) != crc16_ccitt_false(body):
            return ("crc", None)
        return ("line", body.decode("ascii"))


class Program:
    def __init__(self):
        self.steps = []     # [(start_min, dose_ug_day)]
        self.boluses = []   # [(start_min, dose_ug, dur_min)]
        self.ptm = None     # (dose_ug, dur_min, lockout_min, max_day)

    def daily_ug(self):
        total = 0.0
        for i, (start, dose) in enumerate(self.steps):
            end = self.steps[i + 1][0] if i + 1 < len(self.steps) else 1440
            total += dose * (end - start) / 1440.0
        return total + sum(b[1] for b in self.boluses)

    def step_at(self, minute_of_day):
        """1-based number of the step in force at a time of day."""
        index = 1
        for i, (start, _) in enumerate(self.steps):
            if start <= minute_of_day:
                index = i + 1
        return index

    def check(self, conc):
        """PROG.COMMIT's whole-program checks and section 9's limits at a concentration."""
        if not self.steps or self.steps[0][0] != 0:
            raise Reject("RANGE")
        if any(b[0] <= a[0] for a, b in zip(self.steps, self.steps[1:])):
            raise Reject("RANGE")
        eps = 1e-9
        for _, dose in self.steps:
            rate = dose / conc
            if rate < MIN_RATE_ML_DAY - eps or rate > MAX_RATE_ML_DAY + eps:
                raise Reject("RANGE")
        bolus_like = [(d, m) for _, d, m in self.boluses] + ([self.ptm[:2]] if self.ptm else [])
        for dose, dur_min in bolus_like:
            if dose / conc / (dur_min / 60.0) > MAX_BOLUS_ML_H + eps:
                raise Reject("RANGE")


class Bolus:
    def __init__(self, kind, dose_ug, vol_ml, dur_min):
        self.kind, self.dose_ug, self.vol_ml = kind, dose_ug, vol_ml
        self.rate_ml_s = vol_ml / (dur_min * 60.0)
        self.delivered_ml = 0.0


class Event:
    def __init__(self, n, type_, line):
        self.n, self.type, self.line = n, type_, line
        self.last_sent = None


class PumpPeer:
    def __init__(self, args, write, meter=None):
        self.args = args
        self.write_raw = write
        self.meter = meter
        self.rng = random.Random(args.seed)
        self.key = bytes.fromhex(args.key_hex)
        self.model, self.serial = args.model, args.serial
        self.speed = args.speed
        self.m0 = time.monotonic()
        self.clock_offset = (args.start if args.start is not None else time.time())  # pump clock at elapsed 0
        self.receiver = LineReceiver()
        # Kept across resets (section 7).
        self.program = None
        self.res_ml = 0.0
        self.conc = 0
        self.low_res_ml = 2.0
        self.ptm_starts = []         # elapsed seconds of every patient bolus that started
        self.deliv_strokes = 0
        self.motor_ul = 0.0          # volume the rotor was asked for, before whole strokes
        self.line_ul = 0.0           # delivered, not yet through the line to the meter
        self.battery = args.battery
        self.lock_until = -1.0
        self.alarms = []             # in the order they were set
        # Forgotten at reset.
        self._forget()
        self.state = "STOPPED"
        self.bolus = None
        self.waiting = []
        self.prime = None            # [asked_ml, delivered_ml]
        self.current_step = 0
        self.rebooting_until = None
        self.requests = 0
        self.last_tick = self.elapsed()
        if self.battery <= 10:
            self.alarms.append("ERI")
        if self.battery <= 0:
            self.alarms.append("EOS")
        self.emit("BOOT", reason="POWER")
        for code in self.alarms:
            self.emit("ALARM", code=code, state="SET")

    def _forget(self):
        self.session = False
        self.nonce = None
        self.nonce_fresh = False
        self.edit = None
        self.failures = 0
        self.last = None             # (seq, body, response) of the last executed request
        self.events = {}             # unacknowledged events by EVSEQ
        self.evseq = 0

    # ---- time ----
    def elapsed(self):
        return (time.monotonic() - self.m0) * self.speed

    def clock(self, at_elapsed=None):
        return self.clock_offset + (self.elapsed() if at_elapsed is None else at_elapsed)

    def minute_of_day(self, at_elapsed=None):
        return int((self.clock(at_elapsed) % 86400.0) // 60)

    # ---- output ----
    def send(self, body):
        if self.rebooting_until is None:
            self.write_raw(frame(body))

    def emit(self, type_, **keys):
        self.evseq += 1
        body = f"EV,n={self.evseq},t={fmt3(self.clock())},type={type_}"
        for k, v in keys.items():
            body += f",{k}={v}"
        ev = Event(self.evseq, type_, frame(body))
        self.events[ev.n] = ev
        if len(self.events) > MAX_EVENTS:
            # Section 2: the oldest that is not an ALARM goes.
            for n in sorted(self.events):
                if self.events[n].type != "ALARM":
                    del self.events[n]
                    break
        if self.rebooting_until is None:
            ev.last_sent = self.elapsed()
            self.write_raw(ev.line)

    def resend_events(self):
        now = self.elapsed()
        for ev in list(self.events.values()):
            if ev.last_sent is None or now - ev.last_sent >= RESEND_S:
                ev.last_sent = now
                self.write_raw(ev.line)  # byte for byte the same line

    # ---- alarms ----
    def set_alarm(self, code):
        if code not in self.alarms:
            self.alarms.append(code)
            self.emit("ALARM", code=code, state="SET")

    def clear_alarm(self, code):
        if code in self.alarms:
            self.alarms.remove(code)
            self.emit("ALARM", code=code, state="CLEARED")

    def check_reservoir_alarms(self):
        if self.res_ml <= self.low_res_ml + 1e-12:
            self.set_alarm("LOW_RES")
        if self.res_ml <= EMPTY_ML + 1e-12 and "EMPTY_RES" not in self.alarms:
            self.set_alarm("EMPTY_RES")
            self.end_bolus()
            self.waiting.clear()

    # ---- input ----
    def on_bytes(self, data):
        if self.rebooting_until is not None:
            return  # section 7: reads nothing until BOOT
        for kind, body in self.receiver.feed(data):
            if kind == "crc":
                self.send("0,ERR,code=CRC")
                continue
            response = self.handle(body)
            if response is not None:
                self.send(response)
            if self.rebooting_until is not None:
                break  # what came after a RESET is not read

    def handle(self, body):
        if self.args.verbose:
            shown = re.sub(r"mac=[^,]*", "mac=<redacted>", body)
            print(f"pump_peer: <- {shown}", file=sys.stderr, flush=True)
        fields = body.split(",")
        if not WHOLE.fullmatch(fields[0]) or not 1 <= int(fields[0]) <= 65535:
            return "0,ERR,code=SYNTAX"
        seq = int(fields[0])
        if len(body) > MAX_BODY or len(fields) < 2 or not fields[1]:
            return f"{seq},ERR,code=SYNTAX"
        verb = fields[1]
        args, duplicate = {}, False
        for f in fields[2:]:
            key, eq, value = f.partition("=")
            if not eq or not KEY.fullmatch(key):
                return f"{seq},ERR,code=SYNTAX"
            duplicate |= key in args
            args[key] = value
        if self.last is not None and self.last[0] == seq:
            if self.last[1] == body:
                return self.last[2]  # retry safety: the previous response, not a second execution
            return f"{seq},ERR,code=SEQ"
        self.requests += 1
        if self.args.busy_every and self.requests % self.args.busy_every == 0:
            return f"{seq},ERR,code=BUSY"  # never kept as the previous response
        try:
            extra = self.execute(verb, args, duplicate)
            response = f"{seq},OK" + "".join(f",{k}={v}" for k, v in extra)
        except Reject as r:
            response = f"{seq},ERR,code={r.code}"
        self.last = (seq, body, response)
        if verb == "RESET" and response.endswith(",OK"):
            self.send(response)
            self.rebooting_until = self.elapsed() + BOOT_DELAY_S
            self.last = None
            return None
        return response

    VERBS = {
        # verb: (required keys, optional keys, needs a session)
        "HELLO": ((), (), False),
        "AUTH": (("mac",), (), False),
        "STATUS": ((), (), False),
        "EVACK": (("n",), (), False),
        "CLOCK": ((), ("set",), True),
        "PROG.BEGIN": ((), (), True),
        "PROG.STEP": (("start", "dose_ug_day"), (), True),
        "PROG.BOLUS": (("start", "dose_ug", "dur_min"), (), True),
        "PROG.PTM": (("dose_ug", "dur_min", "lockout_min", "max_day"), (), True),
        "PROG.COMMIT": ((), (), True),
        "PROG.READ": ((), ("step", "bolus", "ptm"), True),
        "START": ((), (), True),
        "STOP": ((), (), True),
        "BOLUS": (("dose_ug", "dur_min"), (), True),
        "BOLUS.CANCEL": ((), (), True),
        "PTM": ((), (), True),
        "PRIME": (("vol_ml",), (), True),
        "REFILL": (("res_ml", "conc_ug_ml"), (), True),
        "ALARM.CFG": (("low_res_ml",), (), True),
        "RESET": ((), (), True),
    }

    def execute(self, verb, args, duplicate):
        if verb not in self.VERBS:
            raise Reject("UNKNOWN")
        required, optional, needs_session = self.VERBS[verb]
        if needs_session and not self.session:
            raise Reject("AUTH")
        if "EOS" in self.alarms and verb not in ("HELLO", "STATUS", "EVACK"):
            raise Reject("STATE")
        if duplicate or any(k not in required and k not in optional for k in args) or any(k not in args for k in required):
            raise Reject("ARG")
        values = {}
        for k, v in args.items():
            syntax = KEY_SYNTAX[k]
            if syntax == "whole":
                if not WHOLE.fullmatch(v):
                    raise Reject("ARG")
                values[k] = int(v)
            elif syntax == "decimal":
                if not DECIMAL.fullmatch(v):
                    raise Reject("ARG")
                values[k] = float(v)
            elif syntax == "clock":
                # Section 4: T with at most 3 decimals.
                if not re.fullmatch(r"\d+(\.\d{1,3})?", v):
                    raise Reject("ARG")
                values[k] = float(v)
            elif syntax == "tod":
                m = TIME_OF_DAY.fullmatch(v)
                if not m:
                    raise Reject("ARG")
                values[k] = int(m.group(1)) * 60 + int(m.group(2))
            else:
                values[k] = v
        return getattr(self, "do_" + verb.replace(".", "_").lower())(values) or []

    # ---- session ----
    def do_hello(self, a):
        self.session = False
        self.edit = None
        self.nonce = "".join(self.rng.choice("0123456789ABCDEF") for _ in range(16))
        self.nonce_fresh = True
        out = [("model", self.model), ("sn", self.serial), ("fw", "3.0.0-py"), ("proto", "1"), ("nonce", self.nonce)]
        if self.args.extra_keys:
            out.append(("hw", "peer"))  # a key the host does not know
        return out

    def do_auth(self, a):
        fresh, self.nonce_fresh = self.nonce_fresh, False  # a nonce is good for one AUTH
        if self.elapsed() < self.lock_until:
            raise Reject("LOCKED")  # neither counts nor extends the lockout
        expected = hmac.new(self.key, f"{self.nonce}:{self.serial}".encode(), hashlib.sha256).hexdigest()
        mac = a["mac"]
        if fresh and HEX64.fullmatch(mac) and hmac.compare_digest(mac.lower(), expected):
            self.session = True
            self.failures = 0
            return []
        self.failures += 1
        if self.failures >= 3:
            self.lock_until = self.elapsed() + LOCKOUT_S
            self.failures = 0  # starts again after the lockout; LOCKED answers do not count
        raise Reject("AUTH")

    def do_evack(self, a):
        self.events.pop(a["n"], None)

    def do_status(self, a):
        if self.state == "RUNNING":
            rate = MIN_RATE_ML_DAY if "EMPTY_RES" in self.alarms else self.basal_ml_day()
        else:
            rate = 0.0
        out = [("state", self.state), ("t", fmt3(self.clock())), ("res_ml", fmt3(max(self.res_ml, 0.0))),
               ("conc_ug_ml", str(self.conc)), ("rate_ml_day", fmt3(rate)),
               ("bolus", self.bolus.kind if self.bolus else "NONE"),
               ("deliv_ml", fmt3(self.deliv_strokes * STROKE_UL / 1000.0)),
               ("step", str(self.current_step if self.state == "RUNNING" else 0)),
               ("batt_pct", str(int(self.battery))), ("alarms", "+".join(self.alarms) or "NONE")]
        if self.args.extra_keys:
            out.insert(3, ("temp_c", "37.0"))
        return out

    def do_clock(self, a):
        if "set" in a:
            if self.state != "STOPPED":
                raise Reject("STATE")
            self.clock_offset = a["set"] - self.elapsed()
        return [("t", fmt3(self.clock()))]

    # ---- programs ----
    def _edit(self):
        if self.edit is None:
            raise Reject("STATE")
        return self.edit

    def do_prog_begin(self, a):
        self.edit = Program()

    def do_prog_step(self, a):
        e = self._edit()
        if len(e.steps) >= 10:
            raise Reject("RANGE")
        e.steps.append((a["start"], a["dose_ug_day"]))

    def do_prog_bolus(self, a):
        e = self._edit()
        if not 1 <= a["dur_min"] <= 1440 or len(e.boluses) >= 4:
            raise Reject("RANGE")
        e.boluses.append((a["start"], a["dose_ug"], a["dur_min"]))

    def do_prog_ptm(self, a):
        e = self._edit()
        if not (1 <= a["dur_min"] <= 1440 and 0 <= a["lockout_min"] <= 1440 and 1 <= a["max_day"] <= 24):
            raise Reject("RANGE")
        e.ptm = (a["dose_ug"], a["dur_min"], a["lockout_min"], a["max_day"])

    def do_prog_commit(self, a):
        edit, self.edit = self._edit(), None  # every commit closes the edit
        if self.conc == 0:
            raise Reject("STATE")
        edit.check(self.conc)
        self.program = edit
        if self.state == "RUNNING":
            self.waiting.clear()
            self.current_step = edit.step_at(self.minute_of_day())
            self.emit("STEP", step=self.current_step, dose_ug_day=fmt1(edit.steps[self.current_step - 1][1]))
        return [("steps", len(edit.steps)), ("boluses", len(edit.boluses)), ("daily_ug", fmt1(edit.daily_ug()))]

    def do_prog_read(self, a):
        p = self.program
        if len(a) > 1:
            raise Reject("ARG")  # conservative: one part at a time, as the ICD lists them
        if "step" in a:
            if p is None or not 1 <= a["step"] <= len(p.steps):
                raise Reject("RANGE")
            start, dose = p.steps[a["step"] - 1]
            return [("step", a["step"]), ("start", f"{start // 60:02d}:{start % 60:02d}"), ("dose_ug_day", fmt1(dose))]
        if "bolus" in a:
            if p is None or not 1 <= a["bolus"] <= len(p.boluses):
                raise Reject("RANGE")
            start, dose, dur = p.boluses[a["bolus"] - 1]
            return [("bolus", a["bolus"]), ("start", f"{start // 60:02d}:{start % 60:02d}"), ("dose_ug", fmt1(dose)),
                    ("dur_min", dur)]
        if "ptm" in a:
            if a["ptm"] != 1:
                raise Reject("ARG")  # conservative: the ICD defines ptm=1 only
            if p is None or p.ptm is None:
                raise Reject("STATE")
            dose, dur, lockout, max_day = p.ptm
            return [("dose_ug", fmt1(dose)), ("dur_min", dur), ("lockout_min", lockout), ("max_day", max_day)]
        if p is None:
            return [("steps", 0), ("boluses", 0), ("ptm", 0), ("daily_ug", fmt1(0))]
        return [("steps", len(p.steps)), ("boluses", len(p.boluses)), ("ptm", 1 if p.ptm else 0),
                ("daily_ug", fmt1(p.daily_ug()))]

    # ---- therapy ----
    def basal_ml_day(self):
        if self.program is None or self.conc == 0 or self.current_step == 0:
            return 0.0
        return self.program.steps[self.current_step - 1][1] / self.conc

    def set_state(self, state):
        if state != self.state:
            self.state = state
            self.emit("STATE", state=state)

    def do_start(self, a):
        if self.program is None or self.conc == 0 or "EMPTY_RES" in self.alarms or self.state != "STOPPED":
            raise Reject("STATE")
        self.current_step = self.program.step_at(self.minute_of_day())
        self.set_state("RUNNING")
        self.emit("STEP", step=self.current_step, dose_ug_day=fmt1(self.program.steps[self.current_step - 1][1]))

    def end_bolus(self):
        if self.bolus is None:
            return
        b, self.bolus = self.bolus, None
        delivered = math.floor(b.delivered_ml * 1000.0 / STROKE_UL + 1e-6) * STROKE_UL / 1000.0
        self.emit("BOLUS_END", kind=b.kind, dose_ug=fmt1(b.dose_ug), vol_ml=fmt3(delivered))

    def start_bolus(self, kind, dose_ug, dur_min):
        self.bolus = Bolus(kind, dose_ug, dose_ug / self.conc, dur_min)
        self.emit("BOLUS_START", kind=kind, dose_ug=fmt1(dose_ug), vol_ml=fmt3(self.bolus.vol_ml))

    def do_stop(self, a):
        self.end_bolus()
        self.waiting.clear()
        if self.prime is not None:
            self.emit("PRIME_END", vol_ml=fmt3(self.prime[1]))
            self.prime = None
        self.current_step = 0
        self.set_state("STOPPED")
        self.clear_alarm("MOTOR_STALL")

    def do_bolus(self, a):
        if self.state != "RUNNING" or "EMPTY_RES" in self.alarms or self.bolus is not None:
            raise Reject("STATE")
        if not 1 <= a["dur_min"] <= 1440 or a["dose_ug"] / self.conc / (a["dur_min"] / 60.0) > MAX_BOLUS_ML_H + 1e-9:
            raise Reject("RANGE")
        self.start_bolus("CLINICIAN", a["dose_ug"], a["dur_min"])

    def do_bolus_cancel(self, a):
        self.end_bolus()
        self.start_waiting_bolus()

    def do_ptm(self, a):
        p = self.program
        if (self.state != "RUNNING" or p is None or p.ptm is None or "EMPTY_RES" in self.alarms
                or self.bolus is not None):
            raise Reject("STATE")
        dose, dur, lockout, max_day = p.ptm
        now = self.elapsed()
        if self.ptm_starts and now - self.ptm_starts[-1] < lockout * 60.0:
            raise Reject("LOCKOUT")
        if sum(1 for t in self.ptm_starts if now - t < 86400.0) >= max_day:
            raise Reject("LIMIT")
        self.ptm_starts.append(now)
        self.start_bolus("PTM", dose, dur)

    def do_prime(self, a):
        if self.state != "STOPPED":
            raise Reject("STATE")
        if a["vol_ml"] < 0.001 or a["vol_ml"] > self.res_ml - EMPTY_ML + 1e-9:
            raise Reject("RANGE")
        self.prime = [a["vol_ml"], 0.0]
        self.set_state("PRIMING")

    def do_refill(self, a):
        if self.state != "STOPPED":
            raise Reject("STATE")
        conc, res = a["conc_ug_ml"], a["res_ml"]
        if res > RESERVOIR_ML[self.model] + 1e-9 or not CONC_MIN <= conc <= CONC_MAX:
            raise Reject("RANGE")
        if self.program is not None:
            self.program.check(conc)  # RANGE, and nothing changes
        self.res_ml, self.conc = res, conc
        if res > EMPTY_ML + 1e-12:
            self.clear_alarm("EMPTY_RES")
        if res > self.low_res_ml + 1e-12:
            self.clear_alarm("LOW_RES")
        self.check_reservoir_alarms()

    def do_alarm_cfg(self, a):
        if not 1.0 - 1e-9 <= a["low_res_ml"] <= 5.0 + 1e-9:
            raise Reject("RANGE")
        self.low_res_ml = a["low_res_ml"]
        if self.res_ml <= self.low_res_ml + 1e-12:
            self.set_alarm("LOW_RES")

    def do_reset(self, a):
        return []  # the reboot itself happens in handle(), after the OK went out

    def boot_after_reset(self):
        self.rebooting_until = None
        self.bolus = None          # ends without its events
        self.prime = None
        self.waiting.clear()
        self.state = "STOPPED"
        self.current_step = 0
        if "MOTOR_STALL" in self.alarms:
            self.alarms.remove("MOTOR_STALL")
        self._forget()
        self.receiver = LineReceiver()
        self.emit("BOOT", reason="RESET")
        for code in self.alarms:
            self.emit("ALARM", code=code, state="SET")

    def start_waiting_bolus(self):
        if self.bolus is None and self.waiting and self.state == "RUNNING" and "EMPTY_RES" not in self.alarms:
            start, dose, dur = self.waiting.pop(0)
            self.start_bolus("PERIODIC", dose, dur)

    def motor_stall(self):
        self.end_bolus()
        self.waiting.clear()
        if self.prime is not None:
            self.emit("PRIME_END", vol_ml=fmt3(self.prime[1]))
            self.prime = None
        self.set_alarm("MOTOR_STALL")
        self.set_state("SUSPENDED")

    # ---- delivery, in slices of at most 1 s of elapsed time ----
    def tick(self):
        now = self.elapsed()
        if self.rebooting_until is not None:
            if now >= self.rebooting_until:
                self.boot_after_reset()
            self.last_tick = now
            return
        t = self.last_tick
        while t < now:
            t_next = min(now, t + 1.0)
            self.deliver(t, t_next)
            t = t_next
        self.flow_through_line(now - self.last_tick)
        self.last_tick = now
        self.resend_events()

    def flow_through_line(self, dt):
        """The catheter between pump and meter as a first-order lag of the delivered volume
        (time constant --line-tau), so the meter lags the pump as on a real bench line."""
        if self.meter is None or self.line_ul <= 0 or dt <= 0:
            return
        out = self.line_ul if self.args.line_tau <= 0 else self.line_ul * (1.0 - math.exp(-dt / self.args.line_tau))
        self.line_ul -= out
        self.meter.add_volume(out)

    def deliver(self, t0, t1):
        dt = t1 - t0
        if self.state == "RUNNING":
            step = self.program.step_at(self.minute_of_day(t1))
            if step != self.current_step:
                self.current_step = step
                self.emit("STEP", step=step, dose_ug_day=fmt1(self.program.steps[step - 1][1]))
            # Periodic boluses whose time of day falls in (t0, t1].
            s0, s1 = self.clock(t0) % 86400.0, self.clock(t1) % 86400.0
            for start, dose, dur in self.program.boluses:
                at = start * 60.0
                crossed = (s0 < at <= s1) if s0 <= s1 else (at > s0 or at <= s1)
                if crossed and "EMPTY_RES" not in self.alarms:
                    self.waiting.append((start, dose, dur))
            self.start_waiting_bolus()
        volume_ml = 0.0
        if self.state == "RUNNING":
            rate = MIN_RATE_ML_DAY if "EMPTY_RES" in self.alarms else self.basal_ml_day()
            volume_ml += rate * dt / 86400.0
            if self.bolus is not None:
                part = min(self.bolus.rate_ml_s * dt, self.bolus.vol_ml - self.bolus.delivered_ml)
                self.bolus.delivered_ml += part
                volume_ml += part
        elif self.state == "PRIMING" and self.prime is not None:
            part = min(PRIME_ML_H / 3600.0 * dt, self.prime[0] - self.prime[1])
            self.prime[1] += part
            volume_ml += part
        if volume_ml > 0:
            self.motor_ul += volume_ml * 1000.0
            strokes = math.floor(self.motor_ul / STROKE_UL + 1e-9)
            new = strokes - self.deliv_strokes
            self.deliv_strokes = strokes
            self.line_ul += new * STROKE_UL
            if "EMPTY_RES" in self.alarms:
                self.res_ml = max(0.0, self.res_ml - volume_ml)  # stops at 0.000
            else:
                self.res_ml -= volume_ml
                self.check_reservoir_alarms()
        if self.bolus is not None and self.bolus.delivered_ml >= self.bolus.vol_ml - 1e-12:
            self.end_bolus()
            self.start_waiting_bolus()
        if self.prime is not None and self.prime[1] >= self.prime[0] - 1e-12:
            self.emit("PRIME_END", vol_ml=fmt3(self.prime[1]))
            self.prime = None
            self.set_state("STOPPED")

    def control(self, line):
        words = line.split()
        if not words:
            return
        if words[0] == "STALL":
            self.motor_stall()
        elif words[0] == "BATTERY" and len(words) == 2:
            self.battery = max(0.0, min(100.0, float(words[1])))
            if self.battery <= 10:
                self.set_alarm("ERI")
            if self.battery <= 0:
                self.do_stop({})
                self.set_alarm("EOS")


async def run(args):
    loop = asyncio.get_running_loop()
    keep = []  # file objects that must stay open
    if args.port:
        import serial  # python3-serial

        port = serial.Serial(args.port, baudrate=args.baud, bytesize=8, parity="N", stopbits=1, timeout=0)
        fd = port.fileno()
        keep.append(port)
        device = args.port
    else:
        fd, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes as they are
        keep.append(slave)  # held open so the master never reads EIO between clients
        device = os.ttyname(slave)
    os.set_blocking(fd, False)

    def write(data):
        if args.verbose:
            print(f"pump_peer: -> {data.decode().strip()}", file=sys.stderr, flush=True)
        try:
            os.write(fd, data)
        except BlockingIOError:
            pass  # nobody reads the line: the bytes are lost, as on a real wire

    meter, meter_where = None, "-"
    peer = None
    if args.meter_tcp is not None:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import meter_peer_server

        # The meter measures on the same (bench) time as the pump.
        meter = meter_peer_server.ProfileMeter(args.meter_profile, serial=args.meter_serial,
                                               clock=lambda: (time.monotonic() - peer.m0) * args.speed if peer else 0.0)
    peer = PumpPeer(args, write, meter)
    if meter is not None:
        meter.t_last = peer.elapsed()
        _, _, port_no = await meter_peer_server.start_tcp(meter, args.meter_unit, args.meter_tcp)
        meter_where = f"127.0.0.1:{port_no}"

    done = loop.create_future()

    def on_readable():
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError as e:
            if not done.done():
                done.set_result(f"pump link: {e}")
            return
        if data:
            peer.on_bytes(data)

    loop.add_reader(fd, on_readable)

    stdin_buf = bytearray()

    def on_stdin():
        data = os.read(0, 1024)
        if not data:
            loop.remove_reader(0)  # no control channel: run until killed
            return
        stdin_buf.extend(data)
        while b"\n" in stdin_buf:
            line, _, rest = bytes(stdin_buf).partition(b"\n")
            stdin_buf[:] = rest
            if line.strip() == b"QUIT":
                done.set_result(None)
            else:
                peer.control(line.decode(errors="replace"))

    try:
        loop.add_reader(0, on_stdin)
    except (ValueError, OSError, PermissionError):
        pass  # stdin is not pollable (e.g. a regular file): no control channel
    print(f"READY pump={device} meter_tcp={meter_where} clock_ms={int(peer.clock() * 1000)} speed={args.speed:g}",
          flush=True)
    while not done.done():
        peer.tick()
        if meter is not None:
            meter.advance()
        await asyncio.wait([done], timeout=0.02)  # the model's tick, not a wait for anything
    reason = done.result()
    if reason:
        print(f"pump_peer: {reason}", file=sys.stderr, flush=True)
        return 1
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", help="serve on this serial device (default: a pseudo-terminal made here)")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--speed", type=float, default=1.0, help="bench seconds per wall second")
    parser.add_argument("--start", type=float, help="pump clock at start, Unix seconds (default: now)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the nonce generator")
    parser.add_argument("--model", choices=sorted(RESERVOIR_ML), default="ITB-40")
    parser.add_argument("--serial", default="PYP0001", help="pump serial number")
    parser.add_argument("--key-file", help="file holding the pump key as 64 hex digits (default: the ITB test key)")
    parser.add_argument("--battery", type=float, default=100.0, help="battery charge, percent")
    parser.add_argument("--busy-every", type=int, default=0, help="answer BUSY to every Nth new request (0: never)")
    parser.add_argument("--no-extra-keys", dest="extra_keys", action="store_false",
                        help="do not add keys the host does not know to HELLO and STATUS answers")
    parser.add_argument("--meter-tcp", type=int, help="also serve a flow meter on 127.0.0.1:PORT (0: any free port)")
    parser.add_argument("--meter-profile", default=os.path.join(here, "..", "..", "fixtures", "meters", "lf-2000.json"))
    parser.add_argument("--line-tau", type=float, default=20.0,
                        help="time constant of the line from pump to meter, bench seconds (0: none)")
    parser.add_argument("--meter-unit", type=int, default=1)
    parser.add_argument("--meter-serial", default="PYM0001")
    parser.add_argument("--verbose", action="store_true", help="log the exchange on stderr (AUTH mac redacted)")
    args = parser.parse_args()
    if args.speed <= 0:
        parser.error("--speed must be above 0")
    args.key_hex = TEST_KEY_HEX
    if args.key_file:
        with open(args.key_file, encoding="ascii") as f:
            args.key_hex = f.read().strip()
    if not HEX64.fullmatch(args.key_hex):
        parser.error("the key must be 64 hexadecimal digits")  # never print the key itself
    import logging

    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
