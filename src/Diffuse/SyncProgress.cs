namespace Diffuse;

/// <summary>
/// An <see cref="IProgress{T}"/> that reports on the caller's thread, in order (the framework's <c>Progress&lt;T&gt;</c>
/// posts each report to the thread pool, where they can arrive late and out of order): the one adapter the CLI, the
/// benchmarks and the tests hand to the library's long operations.
/// </summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>Progress adapters.</summary>
public static class SyncProgress
{
    /// <summary>A progress of <typeparamref name="TIn"/> that reports <paramref name="map"/>(value) to <paramref name="inner"/>.</summary>
    public static IProgress<TIn> Map<TIn, TOut>(IProgress<TOut> inner, Func<TIn, TOut> map) =>
        new SyncProgress<TIn>(value => inner.Report(map(value)));
}
