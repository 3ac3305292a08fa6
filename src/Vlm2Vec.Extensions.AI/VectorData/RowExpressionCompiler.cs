using System.Linq.Expressions;
using System.Reflection;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// Compiles LINQ filters and order-by selectors written against a record type into delegates over
/// <see cref="StoredRow"/>, evaluated in process (LINQ-to-objects semantics) without materialising records.
/// <list type="bullet">
/// <item>Record members (<c>r.Text</c>) and dynamic lookups (<c>r["Text"]</c>) bind to the key or a data field by the
/// collection model; an unknown name is an <see cref="InvalidOperationException"/>.</item>
/// <item>What cannot be honoured is a <see cref="NotSupportedException"/>: filtering on a vector property, using the
/// record itself other than through its properties, a dynamic lookup with a non-constant name.</item>
/// <item>Captured variables and member chains over them are evaluated once, up front (as SQL providers do).</item>
/// <item><c>MemoryExtensions.Contains</c> over an implicit span conversion (C# 14 "first-class spans") becomes
/// <c>Enumerable.Contains</c>; reference equality between non-string objects (the dynamic
/// <c>r["Text"] == "foo"</c>) becomes value equality, as a database would compare.</item>
/// </list>
/// </summary>
internal static class RowExpressionCompiler
{
    private static readonly MethodInfo GetDataMethod = typeof(StoredRow).GetMethod(nameof(StoredRow.GetData))!;
    private static readonly PropertyInfo KeyProperty = typeof(StoredRow).GetProperty(nameof(StoredRow.Key))!;
    private static readonly MethodInfo ObjectEqualsMethod = typeof(object).GetMethod(nameof(Equals), BindingFlags.Public | BindingFlags.Static, [typeof(object), typeof(object)])!;
    private static readonly MethodInfo EnumerableContainsMethod =
        typeof(Enumerable).GetMethods().Single(m => m.Name == nameof(Enumerable.Contains) && m.GetParameters().Length == 2);

    /// <summary>Compiles a filter.</summary>
    public static Func<StoredRow, bool> CompileFilter(LambdaExpression filter, CollectionBinding binding)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Compile<Func<StoredRow, bool>>(filter, binding, typeof(bool));
    }

    /// <summary>Compiles an order-by selector; the result is boxed.</summary>
    public static Func<StoredRow, object?> CompileSelector(LambdaExpression selector, CollectionBinding binding)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return Compile<Func<StoredRow, object?>>(selector, binding, typeof(object));
    }

    private static TDelegate Compile<TDelegate>(LambdaExpression lambda, CollectionBinding binding, Type resultType)
        where TDelegate : Delegate
    {
        var row = Expression.Parameter(typeof(StoredRow), "row");
        var body = new Rewriter(lambda.Parameters[0], row, binding).Visit(lambda.Body);
        if (body.Type != resultType)
        {
            body = Expression.Convert(body, resultType);
        }

        try
        {
            return Expression.Lambda<TDelegate>(body, row).Compile();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            throw new NotSupportedException($"The expression '{lambda}' cannot be evaluated by the Vlm2Vec store: {ex.Message}", ex);
        }
    }

    private sealed class Rewriter(ParameterExpression record, ParameterExpression row, CollectionBinding binding) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node)
        {
            if (node == record)
            {
                throw new NotSupportedException(
                    "A filter may use the record only through its key and data properties (r.Property or r[\"Property\"]); it uses the record itself.");
            }

            return base.VisitParameter(node);
        }

        protected override Expression VisitMember(MemberExpression node)
        {
            if (node.Expression == record)
            {
                return Bind(node.Member.Name, node.Type);
            }

            var inner = Visit(node.Expression);

            // Captured variables, fields of 'this' and static members: evaluate now.
            if (inner is null or ConstantExpression)
            {
                var target = (inner as ConstantExpression)?.Value;
                if (target is null && inner is not null && Nullable.GetUnderlyingType(inner.Type) is not null && node.Member.Name == nameof(Nullable<int>.HasValue))
                {
                    return Expression.Constant(false);
                }

                return node.Member switch
                {
                    FieldInfo field => Expression.Constant(field.GetValue(target), node.Type),
                    PropertyInfo { GetMethod.IsStatic: false } property when target is null =>
                        throw new InvalidOperationException($"The filter reads member '{property.Name}' of a null value."),
                    PropertyInfo property => Expression.Constant(Evaluate(property, target), node.Type),
                    _ => node.Update(inner),
                };
            }

            return node.Update(inner);
        }

        protected override Expression VisitMethodCall(MethodCallExpression node)
        {
            if (node.Object == record)
            {
                if (node.Method.Name == "get_Item" && node.Arguments is [var argument] && argument.Type == typeof(string))
                {
                    var name = Visit(argument) is ConstantExpression { Value: string constantName }
                        ? constantName
                        : throw new NotSupportedException("A dynamic filter must name properties with constant strings (r[\"Name\"]).");
                    return Bind(name, node.Type);
                }

                throw new NotSupportedException($"A filter may not call '{node.Method.Name}' on the record; use r.Property or r[\"Property\"].");
            }

            var visited = (MethodCallExpression)base.VisitMethodCall(node);
            if (visited.Method.DeclaringType == typeof(MemoryExtensions)
                && visited.Method.Name == nameof(MemoryExtensions.Contains)
                && (visited.Arguments.Count == 2 || (visited.Arguments.Count == 3 && visited.Arguments[2] is ConstantExpression { Value: null }))
                && UnwrapSpanConversion(visited.Arguments[0]) is { } source)
            {
                var elementType = visited.Arguments[1].Type;
                var enumerableType = typeof(IEnumerable<>).MakeGenericType(elementType);
                if (enumerableType.IsAssignableFrom(source.Type))
                {
                    return Expression.Call(EnumerableContainsMethod.MakeGenericMethod(elementType), Expression.Convert(source, enumerableType), visited.Arguments[1]);
                }
            }

            return visited;
        }

        protected override Expression VisitBinary(BinaryExpression node)
        {
            var visited = base.VisitBinary(node);
            if (visited is BinaryExpression { NodeType: ExpressionType.Equal or ExpressionType.NotEqual, Method: null } binary
                && !binary.Left.Type.IsValueType && !binary.Right.Type.IsValueType)
            {
                Expression equals = Expression.Call(
                    ObjectEqualsMethod, Expression.Convert(binary.Left, typeof(object)), Expression.Convert(binary.Right, typeof(object)));
                return binary.NodeType == ExpressionType.Equal ? equals : Expression.Not(equals);
            }

            return visited;
        }

        private static object? Evaluate(PropertyInfo property, object? target)
        {
            try
            {
                return property.GetValue(target);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                throw ex.InnerException;
            }
        }

        private static Expression? UnwrapSpanConversion(Expression expression)
        {
            Expression? operand = expression switch
            {
                UnaryExpression { NodeType: ExpressionType.Convert, Method.Name: "op_Implicit" } convert when IsSpan(convert.Type) => convert.Operand,
                MethodCallExpression { Method.Name: "op_Implicit", Arguments: [var argument] } call when IsSpan(call.Type) => argument,
                UnaryExpression { NodeType: ExpressionType.Convert, Method: null } convert when IsSpan(convert.Type) => convert.Operand,
                _ => null,
            };

            while (operand is UnaryExpression { NodeType: ExpressionType.Convert, Method: null } inner)
            {
                operand = inner.Operand;
            }

            return operand;

            static bool IsSpan(Type type) =>
                type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(ReadOnlySpan<>) || type.GetGenericTypeDefinition() == typeof(Span<>));
        }

        private Expression Bind(string modelName, Type expressionType)
        {
            if (!binding.Model.PropertyMap.TryGetValue(modelName, out var property))
            {
                throw new InvalidOperationException($"Property name '{modelName}' provided as part of the filter clause is not a valid property name.");
            }

            // A dynamic lookup (typed object) reads the stored value as it is, so a missing value stays null.
            var readAs = expressionType == typeof(object) ? typeof(object) : property.Type;
            Expression bound = property switch
            {
                KeyPropertyModel => Expression.Invoke(Expression.Constant(binding.KeyToView), Expression.Property(row, KeyProperty)),
                DataPropertyModel data => Expression.Call(GetDataMethod.MakeGenericMethod(readAs), row, Expression.Constant(binding.DataIndexOf(data))),
                _ => throw new NotSupportedException($"Filtering on vector property '{modelName}' is not supported; filter on key or data properties."),
            };

            return bound.Type == expressionType ? bound : Expression.Convert(bound, expressionType);
        }
    }
}
