#!/usr/bin/env python3
"""Writes N schedule imports as a JSON array for `cxonectl schedules import`:
every `bad_every`-th one invalid (an overlapping shift of one agent), the
rest valid. Agents are distinct per import, so valid imports never
conflict with each other in the simulator. Every other import is built the
seed's way (conflictResolution AUTO_RESOLVE), the rest with OVERWRITE.

  gen_schedules.py N BAD_EVERY [PREFIX] > imports.json
"""
import json
import sys

n = int(sys.argv[1])
bad_every = int(sys.argv[2])
prefix = sys.argv[3] if len(sys.argv) > 3 else "s"
out = []
for i in range(n):
    entries = []
    for a in range(3):
        agent = f"{prefix}-{i}-a{a}"
        for day in (1, 2):
            entries.append({
                "agentId": agent,
                "startDateTime": f"2026-12-0{day}T08:00:00Z",
                "endDateTime": f"2026-12-0{day}T16:30:00+00:00",
                "breaks": [{"startOffsetMinutes": 240, "durationMinutes": 30}],
                "availabilityOverrides": [],
            })
    if bad_every and i % bad_every == bad_every - 1:
        entries.append({  # overlaps the first shift of agent a0
            "agentId": f"{prefix}-{i}-a0",
            "startDateTime": "2026-12-01T12:00:00Z",
            "endDateTime": "2026-12-01T18:00:00Z",
            "breaks": [], "availabilityOverrides": [],
        })
    out.append({
        "targetCalendarId": f"cal-{prefix}-{i % 20}",
        "validationMode": "STRICT",
        "conflictResolution": "AUTO_RESOLVE" if i % 2 else "OVERWRITE",
        "requiredCapacityMinutes": 2000,
        "scheduleEntries": entries,
    })
json.dump(out, sys.stdout)
