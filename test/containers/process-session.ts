// Setup file of the container suites: this test process's session, under the suite run's id,
// before anything of the harness loads (its SESSION_ID reads MTH_SESSION_ID once).
import { suiteSession } from './suite-sessions.ts';

process.env.MTH_SESSION_ID = suiteSession();
