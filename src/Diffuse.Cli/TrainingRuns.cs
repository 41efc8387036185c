using System.Diagnostics;
using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Training;

namespace Diffuse.Cli;

/// <summary>Training runs with a progress bar and Ctrl-C handling, and their one-line reports (train and demo).</summary>
public static class TrainingRuns
{
    /// <summary>Trains images with a progress bar; Ctrl-C writes a checkpoint and exits 130.</summary>
    public static int Images(ImageTrainingOptions options, TextWriter output) => Images(options, output, out _);

    public static int Images(ImageTrainingOptions options, TextWriter output, out ImageTrainOutcome outcome)
    {
        var clock = Stopwatch.StartNew();
        int total = options.Resume
            ? options.Steps ?? ModelConfig.FromJson(ModelDirectory.ReadConfig(options.OutDir), Path.Combine(options.OutDir, ModelDirectory.ConfigFile)).Training.Steps
            : options.Template!.Training.Steps;
        int first = -1;
        outcome = ProgressDisplay.Run($"train {(options.Resume ? options.OutDir : options.Data)}", Math.Max(1, total), report =>
            ImageTraining.Run(options,
                new SyncProgress<TrainProgress>(p =>
                {
                    // The rate counts from the first finished step, so start-up (data, model) does not skew it.
                    if (first < 0) { first = p.Step; clock.Restart(); }
                    string rate = p.Step > first ? $" {(p.Step - first) / clock.Elapsed.TotalSeconds:F2} it/s" : "";
                    report(p.Step, $"loss {p.Loss:F4}{rate}");
                }),
                line => Console.Error.WriteLine(line), Interrupt.Token), interruptible: false);
        var o = outcome;
        string validation = o.ValidationLoss is { } v ? $", validation loss {v:F4}" : "";
        // A run stopped before its first step has no loss to report (not "NaN").
        string loss = o.EndStep > o.StartStep ? $", final loss {o.FinalLoss:F4}" : ", no step finished";
        output.WriteLine($"trained {o.Parameters:N0}-parameter U-Net from step {o.StartStep} to {o.EndStep} of {o.TotalSteps} in {o.Elapsed.TotalSeconds:F0} s " +
                         $"({o.ImagesPerSecond:F1} images/s){loss}{validation}; model in {o.Directory}");
        if (o.Interrupted)
        {
            output.WriteLine($"interrupted: checkpoint written at step {o.EndStep}; continue with 'diffuse train --resume --out {o.Directory}'");
            return Cli.Interrupted;
        }
        if (o.EndStep < o.TotalSteps)
            output.WriteLine($"stopped at step {o.EndStep} as asked; continue with 'diffuse train --resume --out {o.Directory}'");
        return Cli.Ok;
    }

    /// <summary>Trains points with a progress bar; Ctrl-C stops without writing anything.</summary>
    public static TrainOutcome Points(string data, string outDir, ModelConfig template, bool force, TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        int steps = template.Training.Steps;
        var outcome = ProgressDisplay.Run($"train {data}", steps, report =>
            PointTraining.TrainAndSave(data, outDir, template, force,
                new SyncProgress<TrainProgress>(p => report(p.Step, $"loss {p.Loss:F4} {p.Step / Math.Max(1e-9, clock.Elapsed.TotalSeconds):F0} it/s")),
                Interrupt.Token), interruptible: false);
        string kind = template.Sde is { } sde ? $" ({sde.DisplayName} SDE, score matching)" : "";
        output.WriteLine($"trained {outcome.Parameters:N0}-parameter MLP{kind} on {data} for {steps} steps in {outcome.Elapsed.TotalSeconds:F1} s, final loss {outcome.FinalLoss:F4}; model in {outcome.Directory}");
        return outcome;
    }
}
