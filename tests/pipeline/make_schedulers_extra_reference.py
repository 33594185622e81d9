#!/usr/bin/env python3
"""Writes schedulers_extra_reference.json: diffusers v0.30.3 scheduler runs
for the cases reference/schedulers.json does not record (Euler ancestral,
Karras sigmas, leading/trailing spacing, DDIM options, DPM-Solver variants).

Needs numpy and torch (Debian: python3-numpy python3-torch, as the fixtures
used) and a diffusers v0.30.3 source tree; only its four scheduler modules
are loaded, around a small stand-in for the rest of the package:

  python3 make_schedulers_extra_reference.py DIFFUSERS_SRC/src/diffusers \
      FIXTURES_DIR > schedulers_extra_reference.json
"""
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np
import torch

STUBS = {
    "__init__.py": "",
    "schedulers/__init__.py": "",
    "configuration_utils.py": '''
import functools, inspect
from types import SimpleNamespace
class ConfigMixin:
    def register_to_config(self, **kwargs):
        self.__dict__.setdefault("_cfg", {}).update(kwargs)
        self.config = SimpleNamespace(**self._cfg)
    @classmethod
    def from_config(cls, config, **kwargs):
        d = dict(config); d.update(kwargs)
        params = inspect.signature(cls.__init__).parameters
        obj = cls(**{k: v for k, v in d.items() if k in params})
        # like diffusers, keep the other keys in the config
        obj.register_to_config(**{k: v for k, v in d.items()
                                  if k not in params and not k.startswith("_")})
        return obj
def register_to_config(init):
    @functools.wraps(init)
    def inner(self, *args, **kwargs):
        bound = inspect.signature(init).bind(self, *args, **kwargs)
        bound.apply_defaults()
        self.register_to_config(**{k: v for k, v in bound.arguments.items()
                                   if k not in ("self", "kwargs")})
        init(self, *args, **kwargs)
    return inner
''',
    "utils/__init__.py": '''
import logging as _logging
class BaseOutput:
    pass
class _Logging:
    def get_logger(self, name): return _logging.getLogger(name)
logging = _Logging()
def deprecate(*args, **kwargs):
    return None
''',
    "utils/torch_utils.py": '''
import torch
def randn_tensor(shape, generator=None, device=None, dtype=None, layout=None):
    return torch.randn(shape, generator=generator, device="cpu", dtype=dtype).to(device)
''',
    "schedulers/scheduling_utils.py": '''
from dataclasses import dataclass
from enum import Enum
import torch
from ..utils import BaseOutput
class KarrasDiffusionSchedulers(Enum):
    DDIMScheduler = 1
class SchedulerMixin:
    pass
@dataclass
class SchedulerOutput(BaseOutput):
    prev_sample: torch.Tensor
''',
}
MODULES = ["scheduling_ddim", "scheduling_euler_discrete",
           "scheduling_euler_ancestral_discrete", "scheduling_dpmsolver_multistep"]


def load_diffusers(src):
    root = tempfile.mkdtemp()
    for rel, text in STUBS.items():
        path = os.path.join(root, "diffusers", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    for m in MODULES:
        shutil.copy(os.path.join(src, "schedulers", m + ".py"),
                    os.path.join(root, "diffusers", "schedulers", m + ".py"))
    sys.path.insert(0, root)
    import diffusers.schedulers.scheduling_ddim as ddim
    import diffusers.schedulers.scheduling_dpmsolver_multistep as dpm
    import diffusers.schedulers.scheduling_euler_ancestral_discrete as ea
    import diffusers.schedulers.scheduling_euler_discrete as euler
    return {"ddim": ddim.DDIMScheduler, "euler": euler.EulerDiscreteScheduler,
            "euler_ancestral": ea.EulerAncestralDiscreteScheduler,
            "dpm": dpm.DPMSolverMultistepScheduler}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__" or v["dtype"] != "F32":
            continue
        a, b = v["data_offsets"]
        arr = np.frombuffer(data[8 + n + a:8 + n + b], dtype=np.float32)
        out[k] = torch.from_numpy(arr.reshape(v["shape"]).copy())
    return out


# name: (class key, from_config kwargs, step counts for timesteps/sigmas,
#        trajectory steps or 0, extra step() kwargs)
CASES = {
    "euler_ancestral": ("euler_ancestral", {}, [5, 25], 5, {}),
    "euler_ancestral_leading": ("euler_ancestral", {"timestep_spacing": "leading"}, [5], 5, {}),
    "euler_leading": ("euler", {"timestep_spacing": "leading"}, [5, 25], 5, {}),
    "euler_trailing": ("euler", {"timestep_spacing": "trailing"}, [3, 5, 25], 5, {}),
    "euler_karras": ("euler", {"use_karras_sigmas": True}, [5, 25], 5, {}),
    "euler_vpred_sigma_min": ("euler", {"prediction_type": "v_prediction",
                                        "final_sigmas_type": "sigma_min"}, [5], 5, {}),
    "ddim_leading": ("ddim", {"timestep_spacing": "leading"}, [5, 25, 50], 5, {}),
    "ddim_leading_no_offset": ("ddim", {"timestep_spacing": "leading", "steps_offset": 0}, [5, 7], 5, {}),
    "ddim_trailing": ("ddim", {"timestep_spacing": "trailing"}, [3, 5, 25, 50], 5, {}),
    "ddim_alpha_one_clip": ("ddim", {"set_alpha_to_one": True, "clip_sample": True}, [5], 5, {}),
    "ddim_scaled_linear_vpred": ("ddim", {"beta_schedule": "scaled_linear",
                                          "prediction_type": "v_prediction"}, [5], 5, {}),
    "ddim_cosine_zero_snr_trailing": ("ddim", {"beta_schedule": "squaredcos_cap_v2",
                                               "rescale_betas_zero_snr": True,
                                               "timestep_spacing": "trailing",
                                               "prediction_type": "v_prediction"}, [5], 5, {}),
    "ddim_eta": ("ddim", {}, [5], 5, {"eta": 0.5}),
    "dpmpp_2m_karras": ("dpm", {"algorithm_type": "dpmsolver++", "solver_order": 2,
                                "use_karras_sigmas": True}, [5, 25, 50], 5, {}),
    "dpmpp_2m_leading": ("dpm", {"algorithm_type": "dpmsolver++", "solver_order": 2,
                                 "timestep_spacing": "leading"}, [5, 25], 5, {}),
    "dpmpp_2m_trailing": ("dpm", {"algorithm_type": "dpmsolver++", "solver_order": 2,
                                  "timestep_spacing": "trailing"}, [5, 25], 5, {}),
    "dpmpp_3m_heun_16": ("dpm", {"solver_order": 3, "solver_type": "heun"}, [16], 16, {}),
    "dpmpp_2m_sde": ("dpm", {"algorithm_type": "sde-dpmsolver++"}, [5], 5, {}),
    "dpmpp_2m_lu": ("dpm", {"use_lu_lambdas": True}, [5, 25], 5, {}),
    "dpmpp_2m_thresholding": ("dpm", {"thresholding": True, "sample_max_value": 3.0}, [5], 5, {}),
    "dpmsolver_sigma_min": ("dpm", {"algorithm_type": "dpmsolver",
                                    "final_sigmas_type": "sigma_min"}, [5], 5, {}),
    "sde_dpmsolver_heun": ("dpm", {"algorithm_type": "sde-dpmsolver", "solver_type": "heun",
                                   "final_sigmas_type": "sigma_min"}, [5], 5, {}),
    "dpmsolver_3_16": ("dpm", {"algorithm_type": "dpmsolver", "solver_order": 3,
                               "final_sigmas_type": "sigma_min"}, [16], 16, {}),
    "dpmpp_1s_vpred": ("dpm", {"solver_order": 1, "prediction_type": "v_prediction"}, [5], 5, {}),
    "ddim_thresholding": ("ddim", {"thresholding": True, "sample_max_value": 3.0}, [5], 5, {}),
    "ddim_sample_prediction": ("ddim", {"prediction_type": "sample"}, [5], 5, {}),
    "euler_log_linear": ("euler", {"interpolation_type": "log_linear"}, [5], 5, {}),
    "euler_continuous_vpred": ("euler", {"timestep_type": "continuous",
                                         "prediction_type": "v_prediction"}, [5], 5, {}),
}


def floats(t):
    # The shortest decimal that reads back as the same float32.
    return [float(repr(np.float32(v))) for v in t.reshape(-1).tolist()]


def main():
    classes = load_diffusers(sys.argv[1])
    fixtures = sys.argv[2]
    with open(os.path.join(fixtures, "pipeline/scheduler/scheduler_config.json")) as f:
        config = json.load(f)
    ref = read_safetensors(os.path.join(fixtures, "reference/schedulers.safetensors"))
    x0, fake = ref["initial_sample"], ref["fake_model_outputs"]
    out = {"diffusers": "0.30.3", "base_config": "pipeline/scheduler/scheduler_config.json",
           "sample_shape": list(x0.shape),
           "trajectory": "fixture initial_sample and fake_model_outputs[i % 5], "
                         "torch.Generator().manual_seed(0) created once; x[i] after "
                         "step i, model_input[i] its UNet input (Euler only)",
           "cases": {}}
    for name, (cls_key, kwargs, counts, traj, step_kwargs) in CASES.items():
        cls = classes[cls_key]
        case = {"class": cls.__name__, "overrides": kwargs, "step_kwargs": step_kwargs,
                "timesteps": {}, "sigmas": {}}
        for n in counts:
            s = cls.from_config(config, **kwargs)
            s.set_timesteps(n)
            case["timesteps"][str(n)] = s.timesteps.tolist()
            if hasattr(s, "sigmas") and cls_key != "ddim":
                case["sigmas"][str(n)] = floats(s.sigmas)
        s = cls.from_config(config, **kwargs)
        if "beta_schedule" in kwargs or "rescale_betas_zero_snr" in kwargs:
            case["alphas_cumprod"] = floats(s.alphas_cumprod)
        if traj:
            s.set_timesteps(traj)
            gen = torch.Generator().manual_seed(0)
            init = float(s.init_noise_sigma)
            x = x0 * s.init_noise_sigma
            case["init_noise_sigma"] = init
            # Kept small: the samples after steps 0 and 2 and the last.
            keep = sorted({0, 2, len(s.timesteps) - 1})
            case["model_input"], case["x"] = {}, {}
            for i, t in enumerate(s.timesteps):
                model_input = s.scale_model_input(x, t)
                x = s.step(fake[i % 5], t, x, generator=gen, **step_kwargs).prev_sample
                if i in keep:
                    if cls_key in ("euler", "euler_ancestral"):
                        case["model_input"][str(i)] = floats(model_input)
                    case["x"][str(i)] = floats(x)
        out["cases"][name] = case
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
