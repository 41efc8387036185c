using Diffuse.Configuration;

namespace Diffuse.Models;

/// <summary>
/// Whether a network of a config fits this machine, checked from the config before anything is allocated: a config.json
/// of huge sizes (or a training run asking for one) is a one-line error instead of gigabytes of allocation or a crash.
/// </summary>
internal static class NetworkMemory
{
    /// <summary>Most of the memory the runtime sees (the machine's, or the container's limit): what networks may take.</summary>
    public static long BudgetBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4 * 3;

    /// <summary>
    /// Throws when <paramref name="copies"/> float32 copies of the network of <paramref name="config"/> (the network, its EMA,
    /// gradients and optimizer moments; a load's weights read from the file) exceed <see cref="BudgetBytes"/>.
    /// <paramref name="subject"/> starts the message (a file name), <paramref name="purpose"/> says what needs the copies.
    /// Network types without a <see cref="NetworkTypes.Parameters"/> count pass.
    /// </summary>
    public static void Check(NetworkConfig config, int copies, string subject, string purpose)
    {
        if (NetworkTypes.Parameters(config) is not { } parameters) return;
        double bytes = parameters * 4.0 * copies;
        long budget = BudgetBytes;
        if (bytes > budget)
            throw new DiffuseException($"{subject}: its network has {parameters:N0} parameters, and {purpose} needs about {Gib(bytes)} GiB, more than the {Gib(budget)} GiB this machine allows; use a smaller network");
    }

    static string Gib(double bytes) => (bytes / (1L << 30)).ToString(bytes < 10.0 * (1L << 30) ? "0.0" : "N0", System.Globalization.CultureInfo.InvariantCulture);
}
