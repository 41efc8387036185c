using Diffuse.Configuration;
using System.Globalization;
using System.Text;
using Diffuse.Evaluation;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using Diffuse.Schedules;
using ScottPlot;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Bench;

/// <summary>
/// Every registered sampler driven by the exact denoiser of a Gaussian mixture (2-D and 64-D) at
/// 5..1000 function evaluations: SWD of its samples to fresh data, beside the data floor. With no
/// training error in the model, what remains is the sampler's own discretisation error. Inversions
/// (<c>ddim_inverse</c>) are not samplers and are left out.
/// </summary>
public static class NfeStudy
{
    static readonly int[] Budgets = [5, 10, 20, 50, 100, 1000];
    const int Projections = 512;

    /// <param name="only">Samplers to run (empty: every one but the inversions).</param>
    public static int Run(string outDir, string[] only)
    {
        foreach (var name in only) Schedulers.Describe(name); // an unknown name fails here, before any work
        Directory.CreateDirectory(outDir);
        var config = new SchedulerConfig { ClipSample = false };
        var schedule = NoiseSchedule.FromConfig(config);
        var trainSigmas = Enumerable.Range(0, schedule.NumTrainTimesteps).Select(schedule.Sigma).ToArray();
        var report = new StringBuilder();
        // 64-D uses fewer points so that the whole study runs in about 20 minutes on 2 cores.
        foreach (var (dim, components, radius, std, points) in new[] { (2, 8, 2.0, 0.25, 10_000), (64, 16, 4.0, 0.5, 4_000) })
        {
            using var g = new Generator(1234);
            using var mixture = GaussianMixture.OnSphere(components, dim, radius, std, g);
            using var reference = mixture.Sample(points, g);
            using var second = mixture.Sample(points, g);
            double floor = Swd(second, reference);
            report.AppendLine($"### {dim}-D mixture of {components} Gaussians (radius {radius}, std {std}), {points} points; data floor SWD {floor:F4}");
            report.AppendLine();
            report.AppendLine("| sampler | " + string.Join(" | ", Budgets.Select(b => $"NFE {b}")) + " |");
            report.AppendLine("|---|" + string.Concat(Budgets.Select(_ => "---|")));
            var plot = new Plot();
            foreach (var name in only.Length > 0 ? only : Schedulers.Names.Where(n => !Schedulers.Inverts(n)))
            {
                var cells = new List<string>();
                var xs = new List<double>();
                var ys = new List<double>();
                foreach (int budget in Budgets)
                {
                    var (nfe, swd) = Measure(name, config, budget, mixture, reference, trainSigmas, schedule);
                    cells.Add(double.IsNaN(swd) ? "—" : nfe == budget ? $"{swd:F4}" : $"{swd:F4} ({nfe})");
                    if (!double.IsNaN(swd)) { xs.Add(nfe); ys.Add(swd); }
                }
                report.AppendLine($"| {name} | {string.Join(" | ", cells)} |");
                Console.Error.WriteLine($"{dim}-D {name}: {string.Join(", ", cells)}");
                if (xs.Count > 0)
                {
                    var line = plot.Add.Scatter(xs.Select(Math.Log10).ToArray(), ys.Select(Math.Log10).ToArray());
                    line.LegendText = name;
                }
            }
            var floorLine = plot.Add.HorizontalLine(Math.Log10(floor));
            floorLine.LegendText = "data floor";
            plot.Title($"Exact-score NFE study, {dim}-D mixture");
            plot.XLabel("log10 NFE");
            plot.YLabel("log10 SWD to data");
            plot.ShowLegend(Alignment.UpperRight);
            AtomicFile.WriteAllBytes(Path.Combine(outDir, $"nfe-{dim}d.png"), plot.GetImageBytes(900, 600, ImageFormat.Png));
            report.AppendLine();
        }
        AtomicFile.WriteAllText(Path.Combine(outDir, "nfe.md"), report.ToString());
        Console.WriteLine(report);
        return 0;
    }

    /// <summary>Samples with <paramref name="name"/> at about <paramref name="budget"/> model calls; returns the calls made and the SWD (NaN if the sampler refuses).</summary>
    static (int Nfe, double Swd) Measure(string name, SchedulerConfig config, int budget, GaussianMixture mixture, Tensor reference, double[] trainSigmas, NoiseSchedule schedule)
    {
        IScheduler scheduler;
        try { scheduler = Schedulers.Create(name, config); }
        catch (DiffuseException) { return (0, double.NaN); }
        // Order-2 methods call the model about twice a step: pick the step count that spends the budget.
        int steps = Math.Min(budget, schedule.NumTrainTimesteps);
        SamplingRun probe;
        try { probe = scheduler.Begin(steps); }
        catch (DiffuseException)
        {
            // Multistep schedulers refuse as many steps as training timesteps (they would repeat one).
            steps--;
            try { probe = scheduler.Begin(steps); }
            catch (DiffuseException) { return (0, double.NaN); }
        }
        if (probe.Order > 1) steps = Math.Max(1, (budget + 1) / probe.Order);
        int calls = 0;
        Tensor Model(Tensor x, Tensor t)
        {
            calls++;
            double tv = t[0].to_type(ScalarType.Float64).item<double>();
            double sigma = SigmaSchedules.Interpolate(tv, trainSigmas);
            double abar = 1 / (1 + sigma * sigma);
            using var x0 = mixture.Denoise(x, abar);
            return (x - x0 * Math.Sqrt(abar)) / Math.Sqrt(1 - abar);
        }
        using var g = new Generator(7);
        try
        {
            using var samples = SamplingLoop.Run(Model, scheduler, steps, [reference.shape[0], mixture.Dim], g);
            return (calls, Swd(samples, reference));
        }
        catch (DiffuseException)
        {
            return (calls, double.NaN);
        }
    }

    static double Swd(Tensor a, Tensor b)
    {
        using var directions = new Generator(99);
        return SlicedWasserstein.Distance(a, b, Projections, directions);
    }
}
