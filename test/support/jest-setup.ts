// Integration tests drive real processes and outages: minutes, not seconds.
jest.setTimeout(240_000);
