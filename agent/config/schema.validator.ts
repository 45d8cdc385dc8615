// @ts-nocheck
/* eslint-disable */
// TEMPORARY stub until the generator writes this file.
import { Ajv2020 } from "ajv/dist/2020.js";
import schema from "./schema.json" with { type: "json" };
export const validateConfig = new Ajv2020({ allErrors: true, useDefaults: true, strict: true }).compile(schema);
