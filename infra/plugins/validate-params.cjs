'use strict';
/**
 * Local serverless plugin: refuses to package (or deploy) a stack whose params CloudFormation or
 * the functions would refuse, with one line naming the param and what it accepts. The rules are
 * not restated here: functions/core/stack-params.ts evaluates the template's own Parameters
 * (infra/parameters.yml) and Rules (infra/rules.yml), then runs the functions' configuration
 * parser (functions/core/config.ts) on the environment the Lambdas would get. It also copies the
 * Rules into the template, which serverless' `resources` section cannot hold.
 */
const path = require('node:path');

const CORE = path.join(__dirname, '..', '..', 'functions', 'core', 'stack-params.ts');

/** `--param` values as serverless parses them: `key=value`, the value trimmed at its end. */
function cliParams(options) {
  const out = {};
  for (const item of [options.param ?? []].flat()) {
    const match = /^(?<key>[^=]+)=(?<value>.+)$/.exec(String(item));
    if (match?.groups !== undefined) out[match.groups.key] = match.groups.value.trimEnd();
  }
  return out;
}

function strings(record) {
  const out = {};
  for (const [key, value] of Object.entries(record ?? {})) if (value != null) out[key] = String(value);
  return out;
}

function merged(resources) {
  return Array.isArray(resources) ? Object.assign({}, ...resources) : (resources ?? {});
}

class ValidateParams {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options ?? {};
    this.hooks = {
      'before:package:initialize': () => this.check(),
      'before:package:finalize': () => this.addRules(),
    };
  }

  rules() {
    return this.serverless.service.custom?.irsaAnywhere?.rules ?? {};
  }

  async check() {
    // tsx (a runtime dependency) loads the TypeScript core the Lambdas are built from.
    const { tsImport } = await import('tsx/esm/api');
    const { checkStackParams } = await tsImport(CORE, __filename);
    const sls = this.serverless;
    const params = sls.configurationInput?.params ?? {};
    const stage = sls.service.provider.stage;
    const defaults = strings(params.default);
    const staged = strings(params[stage]);
    const cli = cliParams(this.options);
    const problem = checkStackParams({
      known: [...new Set([...Object.keys(defaults), ...Object.keys(staged)])],
      given: Object.keys(cli),
      values: { ...defaults, ...staged, ...cli },
      cfnParameters: merged(sls.service.resources).Parameters ?? {},
      rules: this.rules(),
    });
    if (problem !== undefined) throw new sls.classes.Error(problem);
  }

  addRules() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    template.Rules = { ...template.Rules, ...this.rules() };
  }
}

module.exports = ValidateParams;
