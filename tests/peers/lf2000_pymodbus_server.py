#!/usr/bin/python3
"""An LF-2000 register map served by python3-pymodbus (Debian's 3.0.x) over Modbus RTU.

A second, independent Modbus server implementation for pumprig's MeterDriver to read. It serves
the input registers 0..7 and holding registers 100..102 of docs/icd/flow-sensor-modbus.md with
values given on the command line, and prints "READY <port>" on stdout once the serial port is
open, so a test can wait for that line instead of sleeping. Registers outside the map answer
exception 02 (pymodbus' own address check). Use 8N1 on pseudo-terminals (docs/platform.md).
"""
import argparse
import asyncio
import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.server.async_io import StartAsyncSerialServer


def lf2000_input_registers(flow_ul_h, total_nl, status, temperature_c, sample, period_ms):
    """Registers 0..7 as the ICD lays them out: float32 and uint32 high word first."""
    flow_hi, flow_lo = struct.unpack(">HH", struct.pack(">f", flow_ul_h))
    total = total_nl % (1 << 32)
    temp = struct.unpack(">H", struct.pack(">h", round(temperature_c * 100)))[0]
    return [flow_hi, flow_lo, total >> 16, total & 0xFFFF, status, temp, sample % 65536, period_ms]


async def serve(args):
    registers = lf2000_input_registers(args.flow, args.total_nl, args.status, args.temperature,
                                       args.sample, args.period)
    unit = ModbusSlaveContext(
        ir=ModbusSequentialDataBlock(0, registers),
        hr=ModbusSequentialDataBlock(100, [0, args.filter_ms, 0]),
        zero_mode=True,  # addresses as on the wire, counting from 0
    )
    context = ModbusServerContext(slaves={args.unit: unit}, single=False)
    server = await StartAsyncSerialServer(
        context=context,
        framer=ModbusRtuFramer,  # a serial server defaults to ASCII: RTU explicitly
        port=args.port,
        baudrate=args.baud,
        bytesize=8,
        parity="N",
        stopbits=1,
        defer_start=True,
    )
    await server.start()
    if server.transport is None:
        print(f"FAILED cannot open {args.port}", flush=True)
        return 1
    print(f"READY {args.port}", flush=True)
    await server.serve_forever()
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", required=True, help="serial device (a socat pty)")
    parser.add_argument("--baud", type=int, default=19200)
    parser.add_argument("--unit", type=int, default=1)
    parser.add_argument("--flow", type=float, default=0.0, help="flow in uL/h")
    parser.add_argument("--total-nl", type=int, default=0, help="total in nL (shown modulo 2^32)")
    parser.add_argument("--status", type=int, default=1, help="status bits (1: VALID)")
    parser.add_argument("--temperature", type=float, default=22.0, help="degC")
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--period", type=int, default=100, help="ms")
    parser.add_argument("--filter-ms", type=int, default=1000)
    args = parser.parse_args()
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
