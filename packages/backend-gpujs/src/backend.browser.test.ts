import { backendCases } from './backend.cases.js';

backendCases('webgl2', 'webgl2');
