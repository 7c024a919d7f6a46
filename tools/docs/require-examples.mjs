// TypeDoc plugin for `npm run docs`: every public symbol must show how it is used, in an
// `@example` block tag. TypeDoc's own `validation.notDocumented` already fails on symbols without
// any TSDoc; this adds the example rule and fails the same way (as a validation error).
//
// The rule, over the converted project (private, protected and @internal members are already
// excluded by typedoc.json):
//
// 1. Every exported declaration of an entry point (class, interface, type alias, function,
//    variable, enum, namespace) needs an `@example`, on its own comment or, for functions, on one
//    of its signatures.
// 2. Every public method, accessor and property of an exported class needs one (on the member or
//    on one of its signatures, getter or setter), except:
//    - constructors: the class's example shows construction;
//    - symbol-keyed members (`[Symbol.dispose]`, `[Symbol.asyncIterator]`, `[Symbol.toStringTag]`,
//      `[inspect.custom]`, ...) and the Object protocol (`toString`, `toJSON`, `valueOf`): they
//      are used through the language or a runtime, not called by name;
//    - members inherited from a class that is itself documented (they are checked there). Members
//      inherited from a base class that is not exported are checked once, on the first exported
//      class that inherits them, and reported under the base's name.
// 3. Methods and accessors of an exported interface need one too; its properties do not, when
//    the interface itself has an example (option bags and result records: the interface's
//    example shows the fields in use, and `notDocumented` still requires TSDoc on each field).
//    The same exceptions as in 2 apply.
//
// Each miss is reported as `<path>: missing @example  (<file>:<line>)` and fails the run.
import { relative } from 'node:path';
import { Application, ReflectionKind } from 'typedoc';

const TOP_LEVEL =
  ReflectionKind.Class |
  ReflectionKind.Interface |
  ReflectionKind.TypeAlias |
  ReflectionKind.Function |
  ReflectionKind.Variable |
  ReflectionKind.Enum |
  ReflectionKind.Namespace;
const MEMBERS = ReflectionKind.Method | ReflectionKind.Accessor | ReflectionKind.Property;
const PROTOCOL = new Set(['toString', 'toJSON', 'valueOf']);

/** Whether the reflection, or one of its signatures / accessor halves, has an `@example` tag. */
function hasExample(reflection) {
  const comments = [
    reflection.comment,
    ...(reflection.signatures ?? []).map((s) => s.comment),
    reflection.getSignature?.comment,
    reflection.setSignature?.comment,
  ];
  return comments.some((c) => c?.blockTags.some((tag) => tag.tag === '@example'));
}

function where(reflection) {
  const source = reflection.sources?.[0] ?? reflection.signatures?.[0]?.sources?.[0];
  return source === undefined ? '' : `  (${relative(process.cwd(), source.fullFileName)}:${source.line})`;
}

/** The import path: `waitsafe` for the main entry point, `waitsafe/inspect` for a sub-path. */
function modulePath(project, module) {
  const base = project.packageName ?? project.name;
  const sub = module.name.replace(/(^|\/)index$/, '');
  return module === project || sub === '' ? base : `${base}/${sub}`;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    const missing = new Map(); // path -> location; a Map so inherited misses are reported once
    const modules = project.children?.some((c) => c.kindOf(ReflectionKind.Module)) ? project.children : [project];

    for (const module of modules) {
      const prefix = modulePath(project, module);
      for (const declaration of module.children ?? []) {
        if (!declaration.kindOf(TOP_LEVEL)) continue;
        const path = `${prefix}.${declaration.name}`;
        const declarationHasExample = hasExample(declaration);
        if (!declarationHasExample) missing.set(path, where(declaration));
        if (!declaration.kindOf(ReflectionKind.ClassOrInterface)) continue;
        const isInterface = declaration.kindOf(ReflectionKind.Interface);

        for (const member of declaration.children ?? []) {
          if (!member.kindOf(MEMBERS)) continue;
          if (member.name.startsWith('[') || PROTOCOL.has(member.name)) continue;
          if (isInterface && member.kindOf(ReflectionKind.Property) && declarationHasExample) continue;
          let owner = declaration.name;
          if (member.inheritedFrom !== undefined) {
            // Checked on the documented base class; a base outside the docs is checked here, once.
            if (member.inheritedFrom.reflection !== undefined) continue;
            owner = member.inheritedFrom.name.split('.')[0] ?? owner;
          }
          if (!hasExample(member)) {
            const key = `${prefix}.${owner}.${member.name}`;
            if (!missing.has(key)) missing.set(key, where(member));
          }
        }
      }
    }

    for (const [path, location] of missing) app.logger.error(`${path}: missing @example${location}`);
    if (missing.size > 0) app.logger.error(`${missing.size} public symbol(s) without an @example`);
  });
}
