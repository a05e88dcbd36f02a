import { spawn } from 'node:child_process';
import { parseArgs, usage, UsageError } from './args';
import * as lab from './lab';
import { LabUnavailable, whyNot } from './preflight';
import { buildCounterKernels } from './counter-kernel';
import { ensureDeviceRoot } from './device-root';
import { buildWebApp } from './web-app';

const log = (line: string): void => {
  process.stderr.write(`lab: ${line}\n`);
};

/** Hands the terminal to a command (exec on a device, or on the laptop side) and mirrors its exit. */
function passThrough(argv: readonly string[]): Promise<number> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file as string, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function main(args: readonly string[]): Promise<number> {
  const c = parseArgs(args);
  if (c.cmd === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const reason = whyNot({ kernels: c.cmd === 'build' });
  if (reason) throw new LabUnavailable(reason);
  switch (c.cmd) {
    case 'up': {
      const state = await lab.up({ devices: c.devices, personas: c.personas, reuse: c.reuse, log });
      for (const d of state.devices) {
        process.stdout.write(
          `${d.name}\t${d.address}\t${d.user}/${d.password}\t${d.hostKeyFingerprint}\n`,
        );
      }
      return 0;
    }
    case 'down':
      await lab.down({ log });
      return 0;
    case 'status': {
      const s = await lab.status();
      if (c.json) {
        process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      } else if (!s.up) {
        process.stdout.write('the lab is down\n');
      } else {
        process.stdout.write(
          `laptop\t${s.laptop?.lanAddress ?? ''}\t(second interface ${s.laptop?.secondAddress ?? ''})\n`,
        );
        for (const d of s.devices) {
          process.stdout.write(
            `${d.name}\t${d.state}\t${d.persona}\t${d.hostname}\t${d.address}\t${d.user}/${d.password}\t${d.hostKeyFingerprint}${d.shape ? `\t${d.shape.rate} ${d.shape.delay ?? ''}` : ''}\n`,
          );
        }
      }
      return 0;
    }
    case 'exec':
      return passThrough(await lab.execCommand(c.device, c.argv));
    case 'laptop':
      return passThrough(lab.laptopArgv(c.argv));
    case 'cut':
      await lab.cut(c.device);
      return 0;
    case 'heal':
      await lab.heal(c.device);
      return 0;
    case 'poweroff':
      await lab.poweroff(c.device);
      return 0;
    case 'boot':
      await lab.boot(c.device);
      return 0;
    case 'shape': {
      const r = await lab.shape(c.device, c.rate, c.delay);
      if (!r.delayApplied) log('this kernel has no netem: the rate is shaped, the delay is not');
      return 0;
    }
    case 'unshape':
      await lab.unshape(c.device);
      return 0;
    case 'build': {
      const kernels = await buildCounterKernels();
      const app = await buildWebApp(log);
      const lines = [
        await ensureDeviceRoot(log),
        ...Object.values(kernels),
        app.kernel,
        app.initrd,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`lab: ${e.message}\n${usage}\n`);
      process.exit(64);
    }
    process.stderr.write(`lab: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
