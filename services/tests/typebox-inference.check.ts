// A compile-time check (the build fails if it breaks; nothing here runs): a route handler's body,
// query and params get the types of the TypeBox schemas the services build their routes with, not
// `any`. If inference were lost, each `@ts-expect-error` below would have no error to expect.
import { Type } from "@sinclair/typebox";
import type { Service } from "../common/server.js";

export function routes(app: Service): void {
  const body = Type.Object(
    {
      user_id: Type.String({ minLength: 1 }),
      restaurant_id: Type.Optional(Type.String()),
      items: Type.Union([
        Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer() })),
        Type.Record(Type.String(), Type.Integer()),
      ]),
    },
    { additionalProperties: true },
  );
  app.post(
    "/order",
    { schema: { body, querystring: Type.Object({ n: Type.Number() }), params: Type.Object({ id: Type.String() }) } },
    async (req) => {
      const user: string = req.body.user_id;
      const restaurant: string | undefined = req.body.restaurant_id;
      const items: { sku: string; qty: number }[] | Record<string, number> = req.body.items;
      const n: number = req.query.n;
      const id: string = req.params.id;
      // @ts-expect-error a field the schema does not declare
      const unknownField = req.body.no_such_field;
      // @ts-expect-error user_id is a string
      const wrong: number = req.body.user_id;
      // @ts-expect-error restaurant_id is optional: it may be undefined
      const required: string = req.body.restaurant_id;
      // @ts-expect-error the query's n is a number
      const text: string = req.query.n;
      return { user, restaurant, items, n, id, unknownField, wrong, required, text };
    },
  );
  app.post("/no-schema", async (req) => {
    // @ts-expect-error without a schema the body is unknown, not any
    const anything: string = req.body.whatever;
    return { anything };
  });
}
