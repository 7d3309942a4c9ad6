#!/usr/bin/env node
// Writes docs/node-machine.md: the node machine as a Mermaid state diagram,
// generated from the built machine definition in dist/ (`npm run diagram`
// builds first). test/actors/machineDiagram.test.ts fails when the checked-in
// file and the machine disagree.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_MACHINE_DOC, nodeMachineDocument } from '../dist/actors/machineDiagram.js';
import { nodeMachine } from '../dist/actors/nodeMachine.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, NODE_MACHINE_DOC);
writeFileSync(target, nodeMachineDocument(nodeMachine));
console.log(`wrote ${NODE_MACHINE_DOC}`);
