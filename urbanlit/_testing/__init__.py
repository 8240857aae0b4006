"""Test support for urbanlit's notebooks: the tiny test city and toy cities, toy training problems, the DDP and
reliability harnesses. Not part of the installed package: the wheel leaves this folder out (setup.py), and nothing in
`urbanlit` imports it."""
