import { defineSuite } from "./scenarios.mjs";

defineSuite("chromium");
