using System.CommandLine;
using Diffuse.Configuration;
using Diffuse.IO;

namespace Diffuse.Cli;

/// <summary>The options of the training commands (train, train-classifier, demo), each declared once here.</summary>
public static class TrainingOptions
{
    static readonly SchedulerConfig Scheduler = new();

    public static Option<string?> Data(string description, bool required = false) => Opt.Text("--data", description, required, "NAME");

    public static Option<int?> BatchSize(string description) => Opt.OptionalInt("--batch-size", description, 1, 100_000);

    public static Option<double?> LearningRate(string description) => Opt.OptionalDouble("--lr", description, new Bounds(0, MinExclusive: true, Max: TrainingSpec.MaxLearningRate));

    /// <summary>--schedule: a diffusers beta schedule, or 'cosine' (squaredcos_cap_v2).</summary>
    public static Option<BetaSchedule> Schedule(string description) => Opt.Parsed("--schedule", description,
        name => name == "cosine" ? BetaSchedule.SquaredcosCapV2 : Json.ParseEnum<BetaSchedule>(name, "schedule (or 'cosine')"),
        () => Scheduler.BetaSchedule, "linear|scaled_linear|cosine|sigmoid");

    public static Option<int> Timesteps(string description) => Opt.Int("--timesteps", description, Scheduler.NumTrainTimesteps, 1, 100_000);

    public static Option<double?> ValidationFraction(string description) => Opt.OptionalDouble("--val-fraction", description, new Bounds(0, Max: 1, MaxExclusive: true));

    public static Option<int?> StopAt() => Opt.OptionalInt("--stop-at", "stop with a checkpoint at step N (resume later for the rest)", 1);
}
