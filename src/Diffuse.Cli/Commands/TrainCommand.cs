using System.Diagnostics;
using Diffuse.Data;
using Diffuse.IO;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Process;
using Diffuse.Schedules;
using Diffuse.Training;

namespace Diffuse.Cli.Commands;

public sealed class TrainCommand : ICommand
{
    public string Name => "train";
    public string Summary => "train a diffusion model on a 2-D dataset and write a model folder";
    public string Help => """
        diffuse train --data moons --out runs/moons [options]

          --data NAME          moons | swiss_roll | 8gaussians | checkerboard | circles (default moons)
          --out DIR            model folder to write (refused if it holds a model, unless --force)
          --steps N            training steps (default 4000)
          --batch-size N       points per step (default 512)
          --lr X               peak AdamW learning rate (default 0.002; warmup then cosine decay)
          --seed S             seed of everything random (default 0)
          --schedule NAME      linear | scaled_linear | cosine | sigmoid (default linear)
          --timesteps T        diffusion training timesteps (default 1000)
          --prediction TYPE    epsilon | sample | v_prediction (default epsilon)
          --loss NAME          simple | min_snr (default simple)
          --ema-decay X        EMA decay of the weights (default 0.995)
          --hidden N           MLP width (default 128)
          --blocks N           residual MLP blocks (default 3)
          --force              overwrite a model already in --out
        """;

    public static readonly string[] ValueNames =
        ["data", "out", "steps", "batch-size", "lr", "seed", "schedule", "timesteps", "prediction", "loss", "ema-decay", "hidden", "blocks"];

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv, ValueNames, ["force"]);
        string data = a.Get("data") ?? "moons";
        Toy2D.Validate(data);
        string outDir = a.Require("out");
        Train(data, outDir, Template(a), a.Has("force"), output);
        return Cli.Ok;
    }

    /// <summary>The model config that the training options describe.</summary>
    public static ModelConfig Template(Args a)
    {
        var defaults = new TrainingSpec();
        var training = defaults with
        {
            Steps = a.Int("steps", defaults.Steps, 1),
            BatchSize = a.Int("batch-size", defaults.BatchSize, 1),
            LearningRate = a.Double("lr", defaults.LearningRate, 0, minExclusive: true),
            Seed = a.Long("seed", 0),
            Loss = Json.ParseEnum<LossWeighting>(a.Get("loss") ?? "simple", "loss"),
            EmaDecay = a.Double("ema-decay", defaults.EmaDecay, 0),
        };
        string scheduleName = a.Get("schedule") ?? "linear";
        var schedule = scheduleName == "cosine" ? BetaSchedule.SquaredcosCapV2 : Json.ParseEnum<BetaSchedule>(scheduleName, "schedule (or 'cosine')");
        var scheduler = new Sampling.SchedulerConfig
        {
            NumTrainTimesteps = a.Int("timesteps", 1000, 1, 100_000),
            BetaSchedule = schedule,
            PredictionType = Json.ParseEnum<PredictionType>(a.Get("prediction") ?? "epsilon", "prediction type"),
            // Points are normalised to unit spread, so clipping x_0 to [-1, 1] would cut the data.
            ClipSample = false,
        };
        var defaultModel = new MlpConfig();
        var model = defaultModel with { HiddenDim = a.Int("hidden", defaultModel.HiddenDim, 1), Blocks = a.Int("blocks", defaultModel.Blocks, 0) };
        return new ModelConfig { Model = model, Scheduler = scheduler, Training = training };
    }

    /// <summary>Trains with a progress bar; Ctrl-C stops without writing anything.</summary>
    public static TrainOutcome Train(string data, string outDir, ModelConfig template, bool force, TextWriter output)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            var clock = Stopwatch.StartNew();
            int steps = template.Training.Steps;
            var outcome = ProgressDisplay.Run($"train {data}", steps, report =>
                PointTraining.TrainAndSave(data, outDir, template, force,
                    new Progress(p => report(p.Step, $"loss {p.Loss:F4} {p.Step / Math.Max(1e-9, clock.Elapsed.TotalSeconds):F0} it/s")),
                    cancel.Token));
            output.WriteLine($"trained {outcome.Parameters:N0}-parameter MLP on {data} for {steps} steps in {outcome.Elapsed.TotalSeconds:F1} s, final loss {outcome.FinalLoss:F4}; model in {outcome.Directory}");
            return outcome;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Synchronous IProgress (System.Progress posts to the thread pool, out of order).</summary>
    sealed class Progress(Action<TrainProgress> report) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => report(value);
    }
}
