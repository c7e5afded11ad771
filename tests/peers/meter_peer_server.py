#!/usr/bin/python3
"""A flow meter served by python3-pymodbus from any pumprig meter profile (fixtures/meters/*.json).

A second, independent implementation of the meter side: it shares no code with pumprig's
C++ meter model or profile encoder, only the profile files, which are the vendor maps written
as data. It is used two ways:

* standalone (this file run as a program): serves one meter over Modbus TCP or RTU with a given
  total and flow, the total optionally growing at that flow, and prints
  "READY meter_tcp=<host:port>" or "READY meter=<device>" once it accepts requests, so a test
  waits for that line instead of sleeping;
* as a module imported by pump_peer.py, which feeds the meter with the volume its pump model
  delivers (ProfileMeter.add_volume) and serves it next to the pump.

What it models: one measurement every measurement_period_ms of bench time (the sample counter
moves with it), the total as the sum of what flowed (rounded down to whole raw steps for integer
totals, modulo 2^bits when the profile says the total wraps), the flow as the mean over the
filter window, the VALID status bit, the command register's total reset (applied at the next
measurement, as the LF-2000 ICD says) and the identification text of function 17.
What it does not: value range checks on holding register writes (pymodbus checks addresses
only, so a write out of range is stored, not refused with exception 03), AIR/FAULT, noise.
"""
import argparse
import asyncio
import collections
import json
import logging
import math
import struct
import sys
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext,
                                ModbusSparseDataBlock)
from pymodbus.other_message import ReportSlaveIdResponse

# Profile unit -> pumprig unit (uL, uL/h, degC, ms), as docs of the profile format give them.
UNIT_FACTORS = {
    "volume": {"nL": 1e-3, "uL": 1.0, "mL": 1e3},
    "flow": {"nL/h": 1e-3, "uL/h": 1.0, "uL/min": 60.0, "mL/h": 1e3, "mL/min": 6e4},
    "temperature": {"degC": 1.0},
    "time": {"ms": 1.0, "s": 1e3},
}
QUANTITY_KIND = {"flow": "flow", "total": "volume", "temperature": "temperature", "period": "time"}
TYPE_BITS = {"float32": 32, "uint32": 32, "int32": 32, "uint16": 16, "int16": 16}


class ProfileError(ValueError):
    pass


class Field:
    """One quantity in registers: address, type, word order, and raw * scale = value in unit."""

    def __init__(self, name, spec, kind):
        self.name = name
        self.address = int(spec["address"])
        self.type = spec.get("type", "uint16")
        if self.type not in TYPE_BITS:
            raise ProfileError(f"quantity {name}: type {self.type!r}, expected one of {sorted(TYPE_BITS)}")
        self.low_first = spec.get("word_order", "high_first") == "low_first"
        self.scale = float(spec.get("scale", 1.0))
        self.wraps = bool(spec.get("wraps", False))
        unit = spec.get("unit")
        self.unit_factor = 1.0
        if kind is not None and unit is not None:
            factors = UNIT_FACTORS[kind]
            if unit not in factors:
                raise ProfileError(f"quantity {name}: unit {unit!r}, expected one of {sorted(factors)}")
            self.unit_factor = factors[unit]

    @property
    def count(self):
        return 2 if TYPE_BITS[self.type] == 32 else 1

    def encode(self, value, round_down=False):
        """Value in pumprig's unit -> the register words of this field."""
        raw = value / self.unit_factor / self.scale
        bits = TYPE_BITS[self.type]
        if self.type == "float32":
            hi, lo = struct.unpack(">HH", struct.pack(">f", raw))
        else:
            # The epsilon absorbs unit conversion rounding (1.5 uL must show as 1500 nL, not 1499).
            whole = math.floor(raw + 1e-9 + abs(raw) * 1e-12) if round_down else round(raw)
            signed = self.type.startswith("int")
            if self.wraps:
                word = whole % (1 << bits)
            else:
                lo_lim, hi_lim = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
                word = min(max(whole, lo_lim), hi_lim) % (1 << bits)
            if bits == 16:
                return [word]
            hi, lo = word >> 16, word & 0xFFFF
        return [lo, hi] if self.low_first else [hi, lo]


class ProfileMeter:
    """The meter's state in bench time. Not thread-safe: one asyncio loop owns it."""

    def __init__(self, profile_path, serial="PY0001", clock=None):
        with open(profile_path, encoding="utf-8") as f:
            self.profile = json.load(f)
        p = self.profile
        self.make = p["make"]
        self.period_s = float(p.get("measurement_period_ms", 100)) / 1000.0
        block = p["block"]
        if int(block.get("function", 4)) != 4:
            raise ProfileError("this peer serves input-register blocks (function 4) only")
        self.block_address = int(block["address"])
        self.block_count = int(block["count"])
        q = p["quantities"]
        self.fields = {name: Field(name, spec, QUANTITY_KIND.get(name)) for name, spec in q.items()}
        for name, f in self.fields.items():
            if not (self.block_address <= f.address and f.address + f.count <= self.block_address + self.block_count):
                raise ProfileError(f"quantity {name} lies outside the block")
        self.status_bits = p.get("status_bits", {})
        h = p.get("holding", {})
        self.command = h.get("command")
        self.filter = h.get("filter_ms")
        self.zero_trim = h.get("zero_trim")
        ident = p["identification"]
        self.ident_text = f"{ident['prefix']},SN={serial},FW=1.0.0-py".encode("ascii")
        self.server_id = int(ident.get("server_id", 0))
        self.run_indicator = int(ident.get("run_indicator", 0xFF))
        # Bench clock in seconds; default: wall time.
        self.clock = clock or time.monotonic
        self.t_last = self.clock()
        self.measurements = 0
        self.total_ul = 0.0
        self.pending_ul = 0.0          # volume fed since the last measurement
        self.reset_pending = False
        self.constant_flow_ul_h = 0.0  # standalone mode: a flow that runs by itself
        self.fixed_flow_ul_h = None    # standalone mode without a running flow: shown as is
        self.filter_ms = int(self.filter["default"]) if self.filter else 1000
        self.window = collections.deque(maxlen=max(1, self.filter_ms // 100))
        self.window.append(0.0)
        self.holding = {}
        for spec in (self.command, self.filter, self.zero_trim):
            if spec:
                self.holding[int(spec["address"])] = 0
        if self.command:
            self.holding[int(self.command["address"])] = int(self.command.get("idle", 0))
        if self.filter:
            self.holding[int(self.filter["address"])] = self.filter_ms
        if self.zero_trim:
            self.holding[int(self.zero_trim["address"])] = int(self.zero_trim.get("default", 0))

    def add_volume(self, ul):
        """Liquid that passed the sensor (fed by a pump model)."""
        self.pending_ul += ul

    def advance(self):
        """Runs the measurements that fell due since the last call."""
        now = self.clock()
        due = int((now - self.t_last) / self.period_s)
        if due <= 0:
            return
        self.t_last += due * self.period_s
        self.pending_ul += self.constant_flow_ul_h * due * self.period_s / 3600.0
        per_measurement = self.pending_ul / due
        for _ in range(min(due, self.window.maxlen or 1)):
            self.window.append(per_measurement * 3600.0 / self.period_s)
        self.total_ul += self.pending_ul
        self.pending_ul = 0.0
        if self.reset_pending:
            # Applied at a measurement, as the LF-2000 ICD says of its command register.
            self.total_ul = 0.0
            self.reset_pending = False
        self.measurements += due

    def flow_ul_h(self):
        trim = 0.0
        if self.zero_trim:
            f = Field("zero_trim", self.zero_trim, "flow")
            raw = self.holding[int(self.zero_trim["address"])]
            raw = raw - 65536 if raw >= 32768 else raw
            trim = raw * f.scale * f.unit_factor
        base = self.fixed_flow_ul_h if self.fixed_flow_ul_h is not None else sum(self.window) / len(self.window)
        return base + trim

    def input_registers(self):
        """The whole block as one measurement shows it."""
        self.advance()
        words = [0] * self.block_count

        def put(name, value, round_down=False):
            f = self.fields.get(name)
            if f is None:
                return
            at = f.address - self.block_address
            words[at:at + f.count] = f.encode(value, round_down)

        put("flow", self.flow_ul_h())
        put("total", self.total_ul, round_down=True)  # the meter keeps the fractions
        status = 0
        if "valid" in self.status_bits:
            status |= 1 << int(self.status_bits["valid"])
        put("status", status)
        put("temperature", 22.0)
        put("sample", self.measurements % 65536)
        put("period", self.period_s * 1000.0)
        return words

    def write_holding(self, address, value):
        if self.command and address == int(self.command["address"]):
            if value == int(self.command.get("reset_total", 1)):
                self.reset_pending = True
            return  # the command register always reads idle
        if self.filter and address == int(self.filter["address"]):
            self.filter_ms = value
            self.window = collections.deque(self.window, maxlen=max(1, value // 100))
        self.holding[address] = value


class LiveInputBlock(ModbusSequentialDataBlock):
    """Input registers computed from the meter at each read: one read, one measurement."""

    def __init__(self, meter):
        super().__init__(meter.block_address, [0] * meter.block_count)
        self.meter = meter

    def getValues(self, address, count=1):  # noqa: N802 (pymodbus' name)
        words = self.meter.input_registers()
        start = address - self.meter.block_address
        return words[start:start + count]


class HoldingBlock(ModbusSparseDataBlock):
    """The profile's holding registers; writes go through the meter."""

    def __init__(self, meter):
        super().__init__(dict(meter.holding))
        self.meter = meter

    def getValues(self, address, count=1):  # noqa: N802
        return [self.meter.holding[a] for a in range(address, address + count)]

    def setValues(self, address, values, use_as_default=False):  # noqa: N802
        for i, v in enumerate(values if isinstance(values, list) else [values]):
            self.meter.write_holding(address + i, v)


def _report_slave_id_encode(self):
    # pymodbus appends its own run status after the identifier; the LF-2000 ICD (and the
    # profiles) put the run indicator right after the server id, before the text. The
    # identifier given below already holds server id, run indicator and text: send just it.
    return struct.pack(">B", len(self.identifier)) + self.identifier


ReportSlaveIdResponse.encode = _report_slave_id_encode


def make_context(meter, unit):
    slave = ModbusSlaveContext(ir=LiveInputBlock(meter), hr=HoldingBlock(meter), zero_mode=True)
    slave.reportSlaveIdData = bytes([meter.server_id, meter.run_indicator]) + meter.ident_text
    return ModbusServerContext(slaves={unit: slave}, single=False)


async def start_tcp(meter, unit, port, host="127.0.0.1"):
    """Serves the meter over Modbus TCP; returns (server, task, actual port)."""
    from pymodbus.server.async_io import StartAsyncTcpServer

    server = await StartAsyncTcpServer(context=make_context(meter, unit), address=(host, port), defer_start=True,
                                       allow_reuse_address=True)
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    return server, task, server.server.sockets[0].getsockname()[1]


async def start_rtu(meter, unit, device, baud):
    """Serves the meter over Modbus RTU on a serial device (8N1: see docs/platform.md)."""
    from pymodbus.framer.rtu_framer import ModbusRtuFramer
    from pymodbus.server.async_io import StartAsyncSerialServer

    server = await StartAsyncSerialServer(context=make_context(meter, unit), framer=ModbusRtuFramer, port=device,
                                          baudrate=baud, bytesize=8, parity="N", stopbits=1, defer_start=True)
    await server.start()
    if server.transport is None:
        raise OSError(f"cannot open {device}")
    return server


async def serve(args):
    meter = ProfileMeter(args.profile, serial=args.serial)
    meter.total_ul = args.total_ul
    if args.integrate:
        meter.constant_flow_ul_h = args.flow_ul_h
    else:
        # A fixed reading: the flow is shown but the total stays where it was put.
        meter.fixed_flow_ul_h = args.flow_ul_h
    if args.rtu:
        server = await start_rtu(meter, args.unit, args.rtu, args.baud)
        print(f"READY meter={args.rtu}", flush=True)
        await server.serve_forever()
    else:
        _, task, port = await start_tcp(meter, args.unit, args.tcp)
        print(f"READY meter_tcp=127.0.0.1:{port}", flush=True)
        await task
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", required=True, help="meter profile JSON (fixtures/meters/*.json)")
    link = parser.add_mutually_exclusive_group(required=True)
    link.add_argument("--tcp", type=int, help="serve Modbus TCP on 127.0.0.1:PORT (0: any free port)")
    link.add_argument("--rtu", help="serve Modbus RTU on this serial device (e.g. a socat pty)")
    parser.add_argument("--baud", type=int, default=19200)
    parser.add_argument("--unit", type=int, default=1)
    parser.add_argument("--serial", default="PY0001", help="serial number in the identification text")
    parser.add_argument("--flow-ul-h", type=float, default=0.0, help="flow shown, uL/h")
    parser.add_argument("--total-ul", type=float, default=0.0, help="total at start, uL")
    parser.add_argument("--integrate", action="store_true", help="let the total grow at the flow (wall time)")
    args = parser.parse_args()
    # pymodbus logs every client disconnect as an error; keep stderr for real problems.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    try:
        return asyncio.run(serve(args))
    except ProfileError as e:
        print(f"meter_peer_server: {args.profile}: {e}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
