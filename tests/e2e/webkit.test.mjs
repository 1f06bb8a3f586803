import { defineSuite } from "./scenarios.mjs";

defineSuite("webkit");
