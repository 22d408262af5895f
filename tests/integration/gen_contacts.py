#!/usr/bin/env python3
"""Writes a contacts CSV for the tests: N rows over C contacts, each row a
distinct value, so that the last update of each contact can be checked.

  gen_contacts.py N CONTACTS [PREFIX] > file.csv
"""
import sys

n = int(sys.argv[1])
contacts = int(sys.argv[2])
prefix = sys.argv[3] if len(sys.argv) > 3 else "c"
print("contactId,firstName,lastName,email")
for i in range(n):
    c = i % contacts
    print(f"{prefix}-{c},First{i},\"Last, {i}\",user{i}@example.com")
