using System.Reflection;
using Microsoft.ML;

namespace Vlm2Vec.ML.Tests.Support;

/// <summary>The <see cref="SchemaShape"/> of a schema (ML.NET's <c>SchemaShape.Create</c> is internal; tests call it by reflection).</summary>
internal static class Shapes
{
    public static SchemaShape Of(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(DataViewSchema)])!
            .Invoke(null, [schema])!;
}
