import { defineSuite } from "./scenarios.mjs";

defineSuite("firefox");
