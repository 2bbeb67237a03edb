import tseslint from "typescript-eslint";

const rootImport = (name) => ({
  name,
  message: `Import the resource from ${name}/lib/<resource>: the package root loads every binding (~10 s, ~1.4 GB per synth).`,
});

export default tseslint.config(
  { ignores: ["node_modules/**", "cdktf.out/**", ".gen/**", "coverage/**", "**/*.js", "**/*.mjs"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [rootImport("@cdktf/provider-aws"), rootImport("@cdktf/provider-random"), rootImport("@cdktf/provider-postgresql")],
        },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
